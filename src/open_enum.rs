//! The macro behind every generated string enum.

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
                    $crate::observe::report(|| $crate::observe::Observation::UnknownEnumValue {
                        enum_name: stringify!($name),
                        value: v.clone(),
                    });
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
                match s {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl ::core::convert::From<::std::string::String> for $name {
            fn from(s: ::std::string::String) -> Self {
                match Self::from(s.as_str()) {
                    Self::Unknown(_) => Self::Unknown(s),
                    known => known,
                }
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
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " string"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::core::result::Result<$name, E> {
                        Ok($name::from(v).observed())
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: ::std::string::String) -> ::core::result::Result<$name, E> {
                        Ok($name::from(v).observed())
                    }
                }
                d.deserialize_str(V)
            }
        }

        impl $crate::query::QueryValue for $name {
            fn query_value(&self) -> ::std::string::String {
                self.as_str().to_string()
            }
        }
    };
}
