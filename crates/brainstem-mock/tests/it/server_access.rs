//! Portals, tokens and permissions of the stand-in server: 401, 403, 404 and
//! 405 with DRF's bodies, what each user sees, who may change what.

use crate::util::{Srv, id_of, names};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn tokens_and_401() {
    let s = Srv::new().await;
    let a = s.get_anon("api/private/stem/session/").await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert!(a.headers.get("www-authenticate").is_some());
    let bad = s
        .send(
            Method::GET,
            "api/private/stem/session/",
            Some("not-a-token"),
            None,
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.body, json!({"detail": "Invalid token."}));
    // DRF authenticates before anything else: a bad token fails on public too.
    let bad = s
        .send(
            Method::GET,
            "api/public/stem/project/",
            Some("not-a-token"),
            None,
        )
        .await;
    assert_eq!(bad.status, 401);
    // Header forms.
    let url = s.url("api/private/stem/project/");
    let r = s
        .http
        .get(&url)
        .header("authorization", format!("Token {}", s.srv.token()))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 200, "the Token keyword works too");
    let r = s
        .http
        .get(&url)
        .header("authorization", "Bearer")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body,
        json!({"detail": "Invalid token header. No credentials provided."})
    );
    let r = s
        .http
        .get(&url)
        .header("authorization", "Bearer a b")
        .send()
        .await
        .expect("answer");
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body,
        json!({"detail": "Invalid token header. Token string should not contain spaces."})
    );
    let r = s
        .http
        .get(&url)
        .header("authorization", "Basic abc")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 401, "another scheme is no credentials");
    // Every token works for reading.
    for t in [
        s.srv.token(),
        s.srv.readonly_token(),
        s.srv.noaccess_token(),
    ] {
        let a = s
            .send(
                Method::GET,
                "api/private/taxonomies/species/",
                Some(t),
                None,
            )
            .await;
        assert_eq!(a.status, 200);
    }
}

#[tokio::test]
async fn public_portal_is_read_only_and_shows_public_data() {
    let s = Srv::new().await;
    let a = s.get_anon("api/public/stem/project/").await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(names(&a.body["projects"]), ["Visual cortex mapping"]);
    let public = id_of(&a.body["projects"][0]);
    let sessions = s.all("api/public/stem/session/", "sessions").await;
    assert!(!sessions.is_empty());
    for r in &sessions {
        assert!(
            r["projects"]
                .as_array()
                .expect("ids")
                .iter()
                .any(|p| p == public.as_str())
        );
    }
    // Private records are not found through the public portal.
    let private = s.alice_project().await;
    assert_eq!(
        s.get_anon(&format!("api/public/stem/project/{private}/"))
            .await
            .status,
        404
    );
    assert_eq!(
        s.get_anon(&format!("api/public/stem/project/{public}/"))
            .await
            .status,
        200
    );
    assert_eq!(
        s.get_anon(&format!("api/public/stem/project/{private}/sessions/"))
            .await
            .status,
        404
    );
    let a = s
        .get_anon(&format!(
            "api/public/stem/project/{public}/sessions/?limit=100"
        ))
        .await;
    assert_eq!(a.status, 200);
    // Personal records: only public ones.
    let stor = s
        .all(
            "api/public/personal_attributes/datastorage/",
            "datastorages",
        )
        .await;
    assert!(stor.iter().all(|r| r["is_public"] == true));
    let all = s
        .all(
            "api/private/personal_attributes/datastorage/",
            "datastorages",
        )
        .await;
    assert!(all.len() > stor.len());
    // Reference data: everything.
    let pub_species = s.all("api/public/taxonomies/species/", "species").await;
    let priv_species = s.all("api/private/taxonomies/species/", "species").await;
    assert_eq!(pub_species.len(), priv_species.len());
    // Writes through the public portal are refused.
    for (m, path) in [
        (Method::POST, "api/public/stem/session/".to_string()),
        (Method::PATCH, format!("api/public/stem/project/{public}/")),
        (Method::DELETE, format!("api/public/stem/project/{public}/")),
        (Method::PUT, format!("api/public/stem/project/{public}/")),
    ] {
        let a = s
            .send(
                m.clone(),
                &path,
                Some(s.srv.token()),
                Some(&json!({"name": "x"})),
            )
            .await;
        assert_eq!(a.status, 405, "{m} {path}");
        assert_eq!(
            a.body,
            json!({"detail": format!("Method \"{m}\" not allowed.")})
        );
        assert!(a.headers.get("allow").is_some());
    }
    // Private-only endpoints do not exist on the public portal.
    for path in [
        "api/public/taxonomies/speciesapproval/",
        "api/public/stem/projectmembershipinvitation/",
        "api/public/stem/sessiondatastorage/",
    ] {
        assert_eq!(s.get_anon(path).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn read_only_token_may_not_write() {
    let s = Srv::new().await;
    let ro = s.srv.readonly_token().to_string();
    let project = s.alice_project().await;
    assert_eq!(
        s.send(Method::GET, "api/private/stem/project/", Some(&ro), None)
            .await
            .status,
        200
    );
    let forbidden = json!({"detail": "You do not have permission to perform this action."});
    for (m, path, body) in [
        (
            Method::POST,
            "api/private/stem/session/".to_string(),
            Some(json!({"name": "x", "projects": [project]})),
        ),
        (
            Method::PATCH,
            format!("api/private/stem/project/{project}/"),
            Some(json!({"description": "x"})),
        ),
        (
            Method::DELETE,
            format!("api/private/stem/project/{project}/"),
            None,
        ),
        (
            Method::PATCH,
            format!("api/private/stem/project/{}/", uuid::Uuid::nil()),
            Some(json!({})),
        ),
    ] {
        let a = s.send(m.clone(), &path, Some(&ro), body.as_ref()).await;
        assert_eq!(a.status, 403, "{m} {path}: {}", a.text);
        assert_eq!(a.body, forbidden);
    }
    // Actions change things even when they are GETs.
    let inv = s
        .first_id(
            "api/private/stem/projectmembershipinvitation/",
            "project_membership_invitations",
        )
        .await;
    let a = s
        .send(
            Method::GET,
            &format!("api/private/stem/projectmembershipinvitation/{inv}/cancel/"),
            Some(&ro),
            None,
        )
        .await;
    assert_eq!(a.status, 403);
    let sp = s
        .first_id(
            "api/private/taxonomies/speciesapproval/",
            "species_approvals",
        )
        .await;
    let a = s
        .send(
            Method::PATCH,
            &format!("api/private/taxonomies/speciesapproval/{sp}/accept/"),
            Some(&ro),
            None,
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        s.srv.store().count("stem/session"),
        300,
        "nothing was written"
    );
}

#[tokio::test]
async fn users_see_their_projects_only() {
    let s = Srv::new().await;
    let bob = s.srv.noaccess_token().to_string();
    let a = s
        .send(Method::GET, "api/private/stem/project/", Some(&bob), None)
        .await;
    assert_eq!(a.body["projects"], json!([]));
    assert_eq!(a.body["count"], 0);
    let a = s
        .send(Method::GET, "api/private/stem/session/", Some(&bob), None)
        .await;
    assert_eq!(a.body["count"], 0);
    let a = s
        .send(
            Method::GET,
            "api/private/modules/behavior/",
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(a.body["count"], 0, "records below sessions follow them");
    let alice = s.get("api/private/stem/project/").await;
    assert_eq!(
        names(&alice.body["projects"]),
        [
            "Hippocampal replay during sleep",
            "Visual cortex mapping",
            "Motor learning in mice"
        ]
    );
    let session = s.first_id("api/private/stem/session/", "sessions").await;
    assert_eq!(
        s.send(
            Method::GET,
            &format!("api/private/stem/session/{session}/"),
            Some(&bob),
            None
        )
        .await
        .status,
        404
    );
    // Bob may write nothing into Alice's project...
    let project = s.alice_project().await;
    let a = s
        .send(
            Method::POST,
            "api/private/stem/session/",
            Some(&bob),
            Some(&json!({"name": "bob's", "projects": [project]})),
        )
        .await;
    assert_eq!(a.status, 403, "{}", a.text);
    let a = s
        .send(
            Method::PATCH,
            &format!("api/private/stem/session/{session}/"),
            Some(&bob),
            Some(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(a.status, 404, "what he cannot see is not found");
    // ...but may make his own project and put sessions in it.
    let a = s
        .send(
            Method::POST,
            "api/private/stem/project/",
            Some(&bob),
            Some(&json!({"name": "Bob's project"})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(
        a.body["project"]["users"],
        json!({"bob@example.org": {"can_change": true, "is_manager": true, "is_owner": true}})
    );
    let mine = id_of(&a.body["project"]);
    let a = s
        .send(
            Method::POST,
            "api/private/stem/session/",
            Some(&bob),
            Some(&json!({"name": "bob 1", "projects": [mine]})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    // Mixing his project with Alice's is refused.
    let a = s
        .send(
            Method::POST,
            "api/private/stem/session/",
            Some(&bob),
            Some(&json!({"name": "bob 2", "projects": [mine, project]})),
        )
        .await;
    assert_eq!(a.status, 403);
    let a = s
        .send(Method::GET, "api/private/stem/project/", Some(&bob), None)
        .await;
    assert_eq!(names(&a.body["projects"]), ["Bob's project"]);
    assert_eq!(
        s.get(&format!("api/private/stem/project/{mine}/"))
            .await
            .status,
        404,
        "Alice does not see it"
    );
}

#[tokio::test]
async fn project_roles() {
    let s = Srv::new().await;
    let all = s.get("api/private/stem/project/").await;
    let motor = all.body["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .find(|p| p["name"] == "Motor learning in mice")
        .expect("Carol's project with Alice as a member")
        .clone();
    let id = id_of(&motor);
    assert_eq!(motor["users"]["alice@example.org"]["can_change"], true);
    assert_eq!(motor["users"]["alice@example.org"]["is_manager"], false);
    // can_change: edit fields and records in it.
    let a = s
        .patch(
            &format!("api/private/stem/project/{id}/"),
            &json!({"description": "edited"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let a = s
        .post(
            "api/private/stem/session/",
            &json!({"name": "motor 1", "projects": [id]}),
        )
        .await;
    assert_eq!(a.status, 201);
    // Not a manager: member maps are off limits; not an owner: no delete.
    let a = s
        .patch(
            &format!("api/private/stem/project/{id}/"),
            &json!({"users": {"bob@example.org": {"can_change": true}}}),
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        s.delete(&format!("api/private/stem/project/{id}/"))
            .await
            .status,
        403
    );
    // Carol owns it: she may.
    let carol = s.srv.token_of("carol@example.org").expect("Carol's token");
    let a = s
        .send(
            Method::PATCH,
            &format!("api/private/stem/project/{id}/"),
            Some(&carol),
            Some(&json!({"users": {"bob@example.org": {"can_change": true}, "alice@example.org": {"remove": true}}})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let users = &a.body["project"]["users"];
    assert_eq!(
        users["bob@example.org"],
        json!({"can_change": true, "is_manager": false, "is_owner": false})
    );
    assert!(users.get("alice@example.org").is_none());
    assert_eq!(users["carol@example.org"]["is_owner"], true);
    // Alice keeps access through the group "Alice lab".
    assert_eq!(
        s.get(&format!("api/private/stem/project/{id}/"))
            .await
            .status,
        200
    );
    // The fourth project is Carol's alone.
    let a = s
        .send(Method::GET, "api/private/stem/project/", Some(&carol), None)
        .await;
    assert!(names(&a.body["projects"]).contains(&"Striatal dopamine and choice".to_string()));
    let fourth = a.body["projects"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["name"] == "Striatal dopamine and choice")
        .map(id_of)
        .expect("found");
    assert_eq!(
        s.get(&format!("api/private/stem/project/{fourth}/"))
            .await
            .status,
        404
    );
    let a = s
        .send(
            Method::DELETE,
            &format!("api/private/stem/project/{fourth}/"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(a.status, 204);
}

#[tokio::test]
async fn personal_and_reference_records() {
    let s = Srv::new().await;
    let carol = s.srv.token_of("carol@example.org").expect("Carol's token");
    // Carol's setups: Alice sees the public ones and may not change them.
    let theirs = s
        .send(
            Method::GET,
            "api/private/personal_attributes/setup/?limit=100",
            Some(&carol),
            None,
        )
        .await;
    let mine = s
        .all("api/private/personal_attributes/setup/", "setups")
        .await;
    let carol_only: Vec<&Value> = theirs.body["setups"]
        .as_array()
        .expect("setups")
        .iter()
        .filter(|r| !mine.iter().any(|m| m["id"] == r["id"]))
        .collect();
    assert!(
        carol_only.iter().all(|r| r["is_public"] == false),
        "private setups of Carol are hidden from Alice"
    );
    // Make one of Carol's setups public: Alice sees it but cannot change it.
    let a = s.send(Method::POST, "api/private/personal_attributes/setup/", Some(&carol), Some(&json!({
        "name": "Carol rig", "setup_type": s.first_id("api/private/taxonomies/setuptype/", "setup_types").await, "is_public": true
    }))).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let rig = id_of(&a.body["setup"]);
    assert_eq!(
        s.get(&format!("api/private/personal_attributes/setup/{rig}/"))
            .await
            .status,
        200
    );
    assert_eq!(
        s.patch(
            &format!("api/private/personal_attributes/setup/{rig}/"),
            &json!({"name": "mine"})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        s.delete(&format!("api/private/personal_attributes/setup/{rig}/"))
            .await
            .status,
        403
    );
    let a = s
        .send(
            Method::DELETE,
            &format!("api/private/personal_attributes/setup/{rig}/"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(a.status, 204);
    assert!(a.text.is_empty(), "204 has an empty body");
    // Reference data: Bob may read, not change Alice's records.
    let bob = s.srv.noaccess_token().to_string();
    let region = s
        .first_id("api/private/taxonomies/brainregion/", "brain_regions")
        .await;
    let a = s
        .send(
            Method::PATCH,
            &format!("api/private/taxonomies/brainregion/{region}/"),
            Some(&bob),
            Some(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(a.status, 403);
    let species = s
        .first_id("api/private/taxonomies/species/", "species")
        .await;
    let a = s
        .send(
            Method::DELETE,
            &format!("api/private/taxonomies/species/{species}/"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(
        a.status, 403,
        "only reviewers delete approval-gated records"
    );
    assert_eq!(
        s.delete(&format!("api/private/taxonomies/species/{species}/"))
            .await
            .status,
        204
    );
    // Users change only themselves.
    let a = s
        .send(
            Method::PATCH,
            "api/private/users/user/1/",
            Some(&bob),
            Some(&json!({"first_name": "Eve"})),
        )
        .await;
    assert_eq!(a.status, 403);
    let a = s
        .send(
            Method::PATCH,
            "api/private/users/user/2/",
            Some(&bob),
            Some(&json!({"first_name": "Robert"})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["user"]["first_name"], "Robert");
}

#[tokio::test]
async fn routing() {
    let s = Srv::new().await;
    let id = s.first_id("api/private/stem/session/", "sessions").await;
    for path in [
        format!("api/private/stem/session/{id}/"),
        format!("api/private/stem/session/{id}"),
        "api/private/stem/session".to_string(),
        format!("api/private/stem/session/{}/", id.to_uppercase()),
    ] {
        assert_eq!(s.get(&path).await.status, 200, "{path}");
    }
    let not_found = json!({"detail": "Not found."});
    for path in [
        "api/private/stem/bogus/",
        "api/elsewhere/stem/session/",
        "api/private/bogus/session/",
        "api/private/stem/session/not-a-uuid/",
        "api/private/users/user/abc/",
        "api/private/stem/session/00000000-0000-0000-0000-000000000000/",
        "api/private/stem/project/00000000-0000-0000-0000-000000000000/sessions/",
        "api/private/stem/session/x/y/z/",
        "api/private//stem/session/",
        "nothing/here",
        "api/",
    ] {
        let a = s.get(path).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.body, not_found, "{path}");
    }
    let a = s
        .send(
            Method::PUT,
            &format!("api/private/stem/session/{id}/"),
            Some(s.srv.token()),
            Some(&json!({})),
        )
        .await;
    assert_eq!(a.status, 405, "no PUT in the spec");
    let a = s.post("api/private/users/user/", &json!({})).await;
    assert_eq!(a.status, 405, "users are not created through the API");
    // The Python tool's URL names for the invitation models answer too.
    let a = s
        .get("api/private/stem/project_membership_invitation/")
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body.get("project_membership_invitations").is_some());
    // HEAD is answered like GET.
    let r = s
        .http
        .head(s.url("api/private/stem/session/"))
        .bearer_auth(s.srv.token())
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 200);
}
