//! The TLS backend, chosen by the crate's features.
//!
//! - `native-tls` (the default): the platform's own TLS library (OpenSSL on
//!   Linux, Security.framework on macOS, SChannel on Windows) and its
//!   certificate store.
//! - `rustls`: TLS in Rust (rustls with the ring provider) with the platform's
//!   certificate verifier; it takes precedence when both features are on.
//! - neither: only plain-http servers (the stand-in server on loopback) can
//!   be reached; a client for an https server is refused when it is built.
//!
//! HTTP/2 is offered in the TLS handshake (ALPN) only when the `http2`
//! feature can speak it.

use super::Error;

/// Whether this build can reach a server at all: an https base URL needs a
/// TLS backend.
pub(super) fn check(https: bool) -> Result<(), Error> {
    if https && !cfg!(any(feature = "native-tls", feature = "rustls")) {
        return Err(Error::Config(
            "this build of brainstem has no TLS backend, so it cannot reach an https server: \
             turn on its feature `native-tls` (a default feature) or `rustls`"
                .into(),
        ));
    }
    Ok(())
}

/// Set up the TLS of a client whose base URL is https (`https`), or plain
/// http. A plain-http client loads no certificates: redirects never leave
/// the origin, so it never makes a TLS connection.
pub(super) fn configure(
    builder: reqwest::ClientBuilder,
    https: bool,
) -> Result<reqwest::ClientBuilder, Error> {
    check(https)?;
    backend(builder, https)
}

#[cfg(feature = "rustls")]
fn backend(builder: reqwest::ClientBuilder, https: bool) -> Result<reqwest::ClientBuilder, Error> {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS setup: {e}")))?;
    let mut cfg = if https {
        let verifier = rustls_platform_verifier::Verifier::new(provider)
            .map_err(|e| Error::Config(format!("cannot load the platform's TLS roots: {e}")))?;
        versions
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        versions
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    cfg.alpn_protocols = alpn().iter().map(|p| p.as_bytes().to_vec()).collect();
    // reqwest uses this configuration as it is, ALPN included
    Ok(builder.tls_backend_preconfigured(cfg))
}

#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
fn backend(builder: reqwest::ClientBuilder, https: bool) -> Result<reqwest::ClientBuilder, Error> {
    // reqwest offers `h2` in ALPN itself, only when it can speak it
    let builder = builder.tls_backend_native();
    Ok(if https {
        builder
    } else {
        builder.tls_certs_only(std::iter::empty())
    })
}

#[cfg(not(any(feature = "native-tls", feature = "rustls")))]
fn backend(builder: reqwest::ClientBuilder, _https: bool) -> Result<reqwest::ClientBuilder, Error> {
    Ok(builder)
}

/// The protocols offered in the TLS handshake: `h2` only when this build
/// speaks HTTP/2 (a server that picked it would otherwise get HTTP/1.1 on an
/// HTTP/2 connection, and every request would fail).
#[cfg_attr(not(feature = "rustls"), allow(dead_code))]
fn alpn() -> &'static [&'static str] {
    if cfg!(feature = "http2") {
        &["h2", "http/1.1"]
    } else {
        &["http/1.1"]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn h2_is_offered_only_by_a_build_that_speaks_it() {
        assert_eq!(super::alpn().contains(&"h2"), cfg!(feature = "http2"));
        assert!(super::alpn().contains(&"http/1.1"));
    }

    #[test]
    fn an_https_client_needs_a_tls_backend_and_a_plain_http_one_does_not() {
        let has_tls = cfg!(any(feature = "native-tls", feature = "rustls"));
        assert_eq!(super::check(true).is_ok(), has_tls);
        assert!(super::check(false).is_ok());
        if !has_tls {
            let e = super::check(true).unwrap_err().to_string();
            assert!(e.contains("native-tls") && e.contains("rustls"), "{e}");
        }
    }
}
