//! The macro behind every generated string enum, and the one reader all of
//! them decode through.
//!
//! Every enum reads its value through [`read`], which is generic over the
//! deserializer only: serde_json's string parsing is compiled once per input
//! kind, not once per enum (there are about two hundred).

use std::fmt;

/// What [`read`] found: the index of a listed value, or a value the list
/// does not hold, verbatim.
#[doc(hidden)]
#[derive(Debug, PartialEq)]
pub enum Read {
    /// `values[i]`.
    Known(usize),
    /// Not listed.
    Unknown(String),
}

impl Read {
    /// Look `s` up in `values`.
    #[doc(hidden)]
    pub fn of(values: &[&str], s: &str) -> Read {
        match index(values, s) {
            Some(i) => Read::Known(i),
            None => Read::Unknown(s.to_string()),
        }
    }

    /// [`of`](Self::of), keeping an unlisted `s` without copying it.
    #[doc(hidden)]
    pub fn of_owned(values: &[&str], s: String) -> Read {
        match index(values, &s) {
            Some(i) => Read::Known(i),
            None => Read::Unknown(s),
        }
    }
}

/// The index of `s` in `values`, if it is listed.
fn index(values: &[&str], s: &str) -> Option<usize> {
    values.iter().position(|v| *v == s)
}

/// Read one string and look it up in `values`; `name` names the enum in
/// the error for a value that is not a string.
#[doc(hidden)]
pub fn read<'de, D: serde::Deserializer<'de>>(
    d: D,
    name: &'static str,
    values: &'static [&'static str],
) -> Result<Read, D::Error> {
    d.deserialize_str(Values { name, values })
}

struct Values {
    name: &'static str,
    values: &'static [&'static str],
}

impl<'de> serde::de::Visitor<'de> for Values {
    type Value = Read;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} string", self.name)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Read, E> {
        Ok(Read::of(self.values, v))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Read, E> {
        Ok(Read::of_owned(self.values, v))
    }
}

/// Report a decoded value that `enum_name` does not list: one function for
/// every enum, not a copy of [`report`](crate::observe::report) in each.
#[doc(hidden)]
pub fn unlisted(enum_name: &'static str, value: &str) {
    crate::observe::report(|| crate::observe::Observation::UnknownEnumValue {
        enum_name,
        value: value.to_owned(),
    });
}

/// Define an open string enum: one variant per documented value plus
/// `Unknown(String)`, so a value a newer server sends never breaks parsing.
///
/// Used by the generated code; public only so that generated code can name it.
#[doc(hidden)]
#[macro_export]
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $value:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                #[doc = concat!("`", $value, "`")]
                $variant,
            )*
            /// A value this version of the schema does not list (kept verbatim).
            Unknown(::std::string::String),
        }

        impl $name {
            /// The values the schema lists, in its order.
            pub const VALUES: &'static [&'static str] = &[$($value),*];

            /// The listed variants, in the order of [`VALUES`](Self::VALUES).
            const KNOWN: &'static [Self] = &[$(Self::$variant),*];

            /// The variant [`read`]($crate::open_enum::read) found.
            fn from_read(read: $crate::open_enum::Read) -> Self {
                match read {
                    // `KNOWN` and `VALUES` have the same length
                    $crate::open_enum::Read::Known(i) => Self::KNOWN
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| Self::Unknown(::std::string::String::new())),
                    $crate::open_enum::Read::Unknown(s) => Self::Unknown(s),
                }
            }

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(s) => s.as_str(),
                }
            }

            /// Whether the value is one the schema lists.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// Report a decoded value the schema does not list.
            fn observed(self) -> Self {
                if let Self::Unknown(v) = &self {
                    $crate::open_enum::unlisted(stringify!($name), v);
                }
                self
            }
        }

        impl $crate::Absent for $name {
            /// `Unknown("")`: no value was sent.
            fn absent() -> Self {
                Self::Unknown(::std::string::String::new())
            }
            fn is_absent(&self) -> bool {
                matches!(self, Self::Unknown(v) if v.is_empty())
            }
        }

        impl ::core::convert::From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_read($crate::open_enum::Read::of(Self::VALUES, s))
            }
        }

        impl ::core::convert::From<::std::string::String> for $name {
            fn from(s: ::std::string::String) -> Self {
                Self::from_read($crate::open_enum::Read::of_owned(Self::VALUES, s))
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = ::core::convert::Infallible;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                let read = $crate::open_enum::read(d, stringify!($name), Self::VALUES)?;
                ::core::result::Result::Ok(Self::from_read(read).observed())
            }
        }

        impl $crate::query::QueryValue for $name {
            fn query_value(&self) -> ::std::string::String {
                self.as_str().to_string()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{Read, read};
    use crate::enums::TimeUnit;

    const VALUES: &[&str] = &["a", "b"];

    fn one(text: &str) -> Result<Read, serde_json::Error> {
        read(
            &mut serde_json::Deserializer::from_str(text),
            "Letter",
            VALUES,
        )
    }

    #[test]
    fn a_listed_value_reads_as_its_index_and_another_verbatim() {
        assert_eq!(one(r#""b""#).unwrap(), Read::Known(1));
        assert_eq!(one(r#""a\u0062""#).unwrap(), Read::Unknown("ab".into()));
        let e = one("5").unwrap_err().to_string();
        assert!(e.contains("expected a Letter string"), "{e}");
    }

    #[test]
    fn every_generated_value_decodes_to_its_own_variant() {
        for v in TimeUnit::VALUES {
            let t: TimeUnit = serde_json::from_value(serde_json::json!(v)).unwrap();
            assert!(t.is_known(), "{v}");
            assert_eq!(t.as_str(), *v);
            assert_eq!(TimeUnit::from(*v), t);
            assert_eq!(TimeUnit::from(v.to_string()), t);
        }
        let t: TimeUnit = serde_json::from_str(r#""fortnight""#).unwrap();
        assert_eq!(t, TimeUnit::Unknown("fortnight".into()));
        assert_eq!(TimeUnit::from("fortnight"), t);
    }
}
