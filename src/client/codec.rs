//! Each model's decoders, compiled once, in this crate.
//!
//! The client is generic over the model (`Api<M>`, `ListRequest<M>`), and a
//! record's decoder reaches the decoders of every model its relations can
//! embed, which is nearly all of them. Called generically, all of that would
//! be compiled again in every crate that lists a model, in each profile, and
//! again after each edit of that crate (a release rebuild of a one-line
//! change took about 25 s). Instead the generated table
//! [`CODECS`](super::accessors::CODECS) holds, for every model, a [`Codec`]:
//! function pointers to its decoders, instantiated here because a `static`
//! names them. Generic code only looks the pointers up ([`of`]) and calls
//! them.

use std::any::Any;

use super::decode::{self, One};
use super::list::{DecodeFn, DirectFn};
use crate::DecodeError;
use crate::model::Model;

/// Decode `{"<key>": {...}}` (see [`decode::one`]).
pub(crate) type OneFn<T> = fn(&[u8], Option<&str>, &'static str) -> Result<T, DecodeError>;

/// Decode `{"<first>": {...}}` or `{"<second>": {...}}` (see [`decode::either`]).
pub(crate) type EitherFn<A, B> =
    fn(&[u8], Option<&str>, &'static str, &'static str) -> Result<One<A, B>, DecodeError>;

/// The decoders of model `M`.
pub struct Codec<M: Model> {
    /// One record's text, sideloads merged.
    pub(crate) record: DecodeFn<M>,
    /// A whole list body in one pass.
    pub(crate) direct: DirectFn<M>,
    /// A single-record answer.
    pub(crate) one: OneFn<M>,
    /// A single-record answer of the model's approval records.
    pub(crate) approval: OneFn<M::Approval>,
    /// One approval record's text, in a list of them.
    pub(crate) approval_record: DecodeFn<M::Approval>,
    /// A write's answer: the record, or the approval it became.
    pub(crate) saved: EitherFn<M, M::Approval>,
}

impl<M: Model> Codec<M> {
    /// The decoders of `M`. Only the generated table names this, so that the
    /// instances are compiled in this crate.
    pub const NEW: Self = Codec {
        record: decode::model_record::<M>,
        direct: decode::direct_list::<M>,
        one: decode::one::<M>,
        approval: decode::one::<M::Approval>,
        approval_record: super::list::plain_record::<M::Approval>,
        saved: decode::either::<M, M::Approval>,
    };
}

/// The decoders of `M`, from the generated table.
///
/// # Panics
/// When `M` has no entry. Every model has one: the table is generated from
/// the same list of models as the `Model` impls, and a test looks up each.
pub(crate) fn of<M: Model>() -> &'static Codec<M> {
    lookup::<M>().expect("every model has an entry in the generated CODECS table")
}

fn lookup<M: Model>() -> Option<&'static Codec<M>> {
    let codecs: &'static [&'static (dyn Any + Send + Sync)] = &super::accessors::CODECS;
    codecs.iter().find_map(|c| c.downcast_ref::<Codec<M>>())
}

#[cfg(test)]
mod tests {
    use crate::{Model, ModelVisitor};

    struct Has;
    impl ModelVisitor for Has {
        type Output = bool;
        fn visit<M: Model>(self) -> bool {
            super::lookup::<M>().is_some()
        }
    }

    #[test]
    fn every_model_has_its_decoders() {
        assert_eq!(
            super::super::accessors::CODECS.len(),
            crate::models::MODELS.len()
        );
        for meta in crate::models::MODELS {
            let found = crate::models::with_model(meta.name, Has);
            assert_eq!(found, Some(true), "{}", meta.name);
        }
    }
}
