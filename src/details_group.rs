//! The macro behind every generated typed-payload enum (`ProcedureDetails`, ...).

/// What every typed-payload enum (`brainstem::details::ProcedureDetails`, ...) offers.
///
/// A procedure's `details` are typed by its `type`; required fields are
/// constructor arguments, measured values are typed quantities:
///
/// ```
/// use brainstem::Quantity;
/// use brainstem::details::{DetailsGroup, ProcedureDetails};
/// use brainstem::enums::{
///     ProcedureAnesthesiaDetailsAnestheticAgent as Agent, ProcedureAnesthesiaDetailsRoute as Route,
///     TimeUnit,
/// };
/// use brainstem::types::{ProcedureAnesthesiaDetails, ProcedureAnesthesiaDetailsRequired};
///
/// let mut d = ProcedureAnesthesiaDetails::new(ProcedureAnesthesiaDetailsRequired {
///     anesthetic_agent: Agent::Isoflurane,
///     route: Route::Inhalation,
/// });
/// d.duration = Some(Quantity::new(45.0, TimeUnit::Minute));
/// let details = ProcedureDetails::from(d);
/// assert_eq!(details.type_name(), "Anesthesia");
/// assert_eq!(
///     serde_json::to_value(&details).unwrap(),
///     serde_json::json!({"type": "Anesthesia", "details": {
///         "anestheticAgent": "Isoflurane", "route": "Inhalation",
///         "duration": {"value": 45.0, "unit": "min"}}})
/// );
/// ```
///
/// An anesthesia without its anesthetic agent does not compile (rustc: "missing field
/// `anesthetic_agent` in initializer of `ProcedureAnesthesiaDetailsRequired`"):
///
/// ```compile_fail,E0063
/// use brainstem::enums::ProcedureAnesthesiaDetailsRoute as Route;
/// use brainstem::types::{ProcedureAnesthesiaDetails, ProcedureAnesthesiaDetailsRequired};
/// let d = ProcedureAnesthesiaDetails::new(ProcedureAnesthesiaDetailsRequired {
///     route: Route::Inhalation,
/// });
/// ```
///
/// Nor does a unit of the wrong kind (a volume for a duration):
///
/// ```compile_fail
/// use brainstem::{Quantity, enums::*, types::*};
/// let mut d = ProcedureAnesthesiaDetails::new(ProcedureAnesthesiaDetailsRequired {
///     anesthetic_agent: ProcedureAnesthesiaDetailsAnestheticAgent::Isoflurane,
///     route: ProcedureAnesthesiaDetailsRoute::Inhalation,
/// });
/// d.duration = Some(Quantity::new(1.0, VolumeUnit::Millilitre));
/// ```
///
/// Nor the payload of another group (a manipulation's auditory stimulation in a procedure):
///
/// ```compile_fail
/// use brainstem::details::ProcedureDetails;
/// use brainstem::types::ManipulationAuditoryStimulationDetails;
/// let rows: ManipulationAuditoryStimulationDetails = serde_json::from_str("[]").unwrap();
/// let d = ProcedureDetails::AuditoryStimulation(rows);
/// ```
pub trait DetailsGroup:
    serde::Serialize + serde::de::DeserializeOwned + Clone + std::fmt::Debug + PartialEq
{
    /// The schema group (`Procedure`).
    const GROUP: &'static str;
    /// The selector field (`type`).
    const TAG: &'static str;
    /// The payload field (`details`).
    const CONTENT: &'static str;
    /// Every type value the schema knows.
    const TYPES: &'static [&'static str];
    /// The selector value.
    fn type_name(&self) -> &str;
    /// The schema version of the typed payload (`None` for `Unknown`).
    fn schema_version(&self) -> Option<&'static str>;
    /// Whether the payload was parsed into its typed struct.
    fn is_typed(&self) -> bool;
    /// Type a payload by its selector; never fails.
    fn from_parts(type_name: &str, details: serde_json::Value) -> Self;
    /// Type a payload kept as raw JSON by its selector; never fails, and an
    /// `Unknown` keeps the payload exactly (numbers of any size included).
    fn from_raw_parts(type_name: &str, details: crate::RawJson) -> Self;
    /// The payload as raw JSON.
    fn details_raw(&self) -> crate::RawJson;
    /// Write the payload alone (the value of the `CONTENT` field).
    #[doc(hidden)]
    fn serialize_content<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
    /// A payload whose type is not known, kept exactly (`Unknown` with an
    /// empty type name).
    #[doc(hidden)]
    fn untyped(details: crate::RawJson) -> Self;
}

/// A typed payload alone, without its selector: the `details` of a log
/// entry, whose type is the log's `type` (a subject log of type `Weighing`
/// takes [`SubjectLogWeighingDetails`](crate::types::SubjectLogWeighingDetails)
/// entries). Serializes as the payload only.
///
/// ```
/// use brainstem::Quantity;
/// use brainstem::enums::MassUnit;
/// use brainstem::types::{SubjectLogEntryInput, SubjectLogWeighingDetails, SubjectLogWeighingDetailsRequired};
///
/// let weighing = SubjectLogWeighingDetails::new(SubjectLogWeighingDetailsRequired {
///     weight: Quantity::new(312.5, MassUnit::Gram),
/// });
/// let entry = SubjectLogEntryInput {
///     date_time: Some("2024-05-01T09:00:00Z".parse().unwrap()),
///     details: Some(weighing.into()),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_value(&entry).unwrap(),
///     serde_json::json!({"date_time": "2024-05-01T09:00:00Z",
///                        "details": {"weight": {"value": 312.5, "unit": "g"}}})
/// );
/// ```
///
/// Free-form JSON is not a payload (`{"weight": "heavy"}` does not compile):
///
/// ```compile_fail,E0308
/// use brainstem::types::SubjectLogEntryInput;
/// let entry = SubjectLogEntryInput {
///     details: Some(serde_json::json!({"weight": "heavy"})),
///     ..Default::default()
/// };
/// ```
///
/// Nor is the payload of another kind of log (a procedure log's impedances
/// in a subject log entry):
///
/// ```compile_fail,E0277
/// use brainstem::types::{ProcedureLogImpedancesDetails, SubjectLogEntryInput};
/// fn f(p: ProcedureLogImpedancesDetails) -> SubjectLogEntryInput {
///     SubjectLogEntryInput { details: Some(p.into()), ..Default::default() }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Payload<G>(pub G);

impl<G: DetailsGroup> Payload<G> {
    /// The typed payload (`Unknown` with an empty type name when it was read
    /// from JSON, which does not say its type).
    pub fn into_inner(self) -> G {
        self.0
    }
}

impl<G: DetailsGroup> From<G> for Payload<G> {
    fn from(g: G) -> Self {
        Payload(g)
    }
}

impl<G: DetailsGroup> serde::Serialize for Payload<G> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_content(s)
    }
}

/// Reads the payload as it is: its type is not in it, so it is kept
/// exactly as `Unknown` with an empty type name.
impl<'de, G: DetailsGroup> serde::Deserialize<'de> for Payload<G> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = crate::RawJson::deserialize(d)?;
        Ok(Payload(G::untyped(raw)))
    }
}

/// Report why a payload of `group` stays untyped: it did not fit the schema
/// of its type (`mismatch`), or its type is not one the schema knows. One
/// function for every group and type, not a copy of
/// [`report`](crate::observe::report) per payload type.
#[doc(hidden)]
pub fn untyped_payload(group: &'static str, type_name: &str, mismatch: Option<serde_json::Error>) {
    crate::observe::report(|| match mismatch {
        Some(e) => crate::observe::Observation::DetailsMismatch {
            group,
            type_name: type_name.to_string(),
            error: e.to_string(),
        },
        None => crate::observe::Observation::UnknownDetailsType {
            group,
            type_name: type_name.to_string(),
        },
    });
}

/// Define the typed payloads of one schema group: one variant per type, each
/// holding the generated struct for its schema, plus `Unknown`.
///
/// Serializes exactly as the API does, as two sibling fields (adjacent
/// tagging): `{"type": "Anesthesia", "details": {...}}`. Create and patch
/// shapes embed it with `#[serde(flatten)]`; the generated record decoders
/// read the two fields themselves and call `from_record_parts`.
#[doc(hidden)]
#[macro_export]
macro_rules! details_group {
    (
        $(#[$meta:meta])*
        $name:ident {
            group: $group:literal,
            tag: $tag:literal,
            content: $content:literal,
            types: [ $( $variant:ident => ($type_name:literal, $version:literal, $payload:ty) ),* $(,)? ]
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub enum $name {
            $(
                #[doc = concat!("`", $type_name, "` (schema version ", $version, ").")]
                $variant($payload),
            )*
            /// A type this schema version does not know, or details that do not
            /// fit the schema of their type (for example data stored before the
            /// schema was tightened). Kept exactly as received, numbers included.
            Unknown {
                /// The selector value as received.
                type_name: ::std::string::String,
                /// The payload as received (`null` when it was absent).
                details: $crate::RawJson,
            },
        }

        impl $name {
            /// The schema group.
            pub const GROUP: &'static str = $group;
            /// The selector field.
            pub const TAG: &'static str = $tag;
            /// The payload field.
            pub const CONTENT: &'static str = $content;
            /// Every type value the schema knows.
            pub const TYPES: &'static [&'static str] = &[$($type_name),*];

            /// The selector value (`"Anesthesia"`).
            pub fn type_name(&self) -> &str {
                match self {
                    $(Self::$variant(_) => $type_name,)*
                    Self::Unknown { type_name, .. } => type_name,
                }
            }

            /// The version of the schema the payload was typed with (`None` for `Unknown`).
            pub fn schema_version(&self) -> ::core::option::Option<&'static str> {
                match self {
                    $(Self::$variant(_) => ::core::option::Option::Some($version),)*
                    Self::Unknown { .. } => ::core::option::Option::None,
                }
            }

            /// Whether the payload was parsed into its typed struct.
            pub fn is_typed(&self) -> bool {
                !matches!(self, Self::Unknown { .. })
            }

            /// Type a payload by its selector. Never fails: a type the schema
            /// does not know, or a payload that does not fit, is `Unknown`.
            pub fn from_parts(type_name: &str, details: ::serde_json::Value) -> Self {
                Self::from_raw_parts(type_name, $crate::RawJson::from_value(&details))
            }

            /// Type a payload kept as raw JSON by its selector. Never fails: a
            /// type the schema does not know, or a payload that does not fit,
            /// is `Unknown` with the payload kept exactly (and reported to
            /// [`observe`]($crate::observe)).
            pub fn from_raw_parts(type_name: &str, details: $crate::RawJson) -> Self {
                // why the payload stays untyped: the error of a type that did
                // not fit, or none for a type the schema does not know
                let mismatch: ::core::option::Option<::serde_json::Error> = match type_name {
                    $(
                        $type_name => {
                            let checkpoint = $crate::observe::checkpoint();
                            match details.parse::<$payload>() {
                                ::core::result::Result::Ok(p) => return Self::$variant(p),
                                ::core::result::Result::Err(e) => {
                                    $crate::observe::rollback(checkpoint);
                                    ::core::option::Option::Some(e)
                                }
                            }
                        }
                    )*
                    _ => ::core::option::Option::None,
                };
                $crate::details::untyped_payload($group, type_name, mismatch);
                Self::Unknown { type_name: type_name.to_string(), details }
            }

            /// The selector and payload as a record's decoder found them
            /// (either may be absent: an absent payload is kept as `null`).
            #[doc(hidden)]
            pub fn from_record_parts(
                type_name: ::core::option::Option<::std::string::String>,
                details: ::core::option::Option<$crate::RawJson>,
            ) -> Self {
                match (type_name, details) {
                    (::core::option::Option::Some(t), ::core::option::Option::Some(d)) => Self::from_raw_parts(&t, d),
                    (t, d) => Self::Unknown {
                        type_name: t.unwrap_or_default(),
                        details: d.unwrap_or_else($crate::RawJson::null),
                    },
                }
            }

            /// Whether the payload is the `null` an absent payload reads as.
            #[doc(hidden)]
            pub fn content_is_absent(&self) -> bool {
                matches!(self, Self::Unknown { details, .. } if details.is_null())
            }

            /// The payload as JSON (`Null` for an `Unknown` payload holding a
            /// number `serde_json::Value` cannot represent: see [`details_raw`](Self::details_raw)).
            #[inline]
            pub fn details_json(&self) -> ::serde_json::Value {
                // through the text: one serializer per payload type in the
                // binary (the one requests use), not a second for `Value`
                self.details_raw().value().unwrap_or(::serde_json::Value::Null)
            }

            /// The payload as raw JSON, exactly.
            #[inline]
            pub fn details_raw(&self) -> $crate::RawJson {
                match self {
                    $(Self::$variant(p) => $crate::RawJson::from_serialize(p).unwrap_or_else(|_| $crate::RawJson::null()),)*
                    Self::Unknown { details, .. } => details.clone(),
                }
            }
        }

        impl $crate::Absent for $name {
            /// `Unknown` with no selector and a `null` payload.
            fn absent() -> Self {
                Self::Unknown { type_name: ::std::string::String::new(), details: $crate::RawJson::null() }
            }
            fn is_absent(&self) -> bool {
                matches!(self, Self::Unknown { type_name, details } if type_name.is_empty() && details.is_null())
            }
        }

        impl $crate::details::DetailsGroup for $name {
            const GROUP: &'static str = $group;
            const TAG: &'static str = $tag;
            const CONTENT: &'static str = $content;
            const TYPES: &'static [&'static str] = &[$($type_name),*];
            fn type_name(&self) -> &str { $name::type_name(self) }
            fn schema_version(&self) -> ::core::option::Option<&'static str> { $name::schema_version(self) }
            fn is_typed(&self) -> bool { $name::is_typed(self) }
            fn from_parts(type_name: &str, details: ::serde_json::Value) -> Self { $name::from_parts(type_name, details) }
            fn from_raw_parts(type_name: &str, details: $crate::RawJson) -> Self { $name::from_raw_parts(type_name, details) }
            #[inline]
            fn details_raw(&self) -> $crate::RawJson { $name::details_raw(self) }
            fn untyped(details: $crate::RawJson) -> Self {
                Self::Unknown { type_name: ::std::string::String::new(), details }
            }
            fn serialize_content<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                match self {
                    $(Self::$variant(p) => ::serde::Serialize::serialize(p, s),)*
                    Self::Unknown { details, .. } => ::serde::Serialize::serialize(details, s),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let mut m = s.serialize_map(::core::option::Option::Some(2))?;
                m.serialize_entry($tag, self.type_name())?;
                match self {
                    $(Self::$variant(p) => m.serialize_entry($content, p)?,)*
                    Self::Unknown { details, .. } => m.serialize_entry($content, details)?,
                }
                m.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str(concat!("an object with `", $tag, "` and `", $content, "`"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> ::core::result::Result<$name, A::Error> {
                        let mut tag: ::core::option::Option<::std::string::String> = None;
                        let mut content: ::core::option::Option<$crate::RawJson> = None;
                        while let ::core::option::Option::Some(key) = map.next_key::<::std::string::String>()? {
                            if key == $tag {
                                tag = ::core::option::Option::Some(map.next_value()?);
                            } else if key == $content {
                                content = ::core::option::Option::Some(map.next_value()?);
                            } else {
                                map.next_value::<::serde::de::IgnoredAny>()?;
                            }
                        }
                        let tag = tag.ok_or_else(|| <A::Error as ::serde::de::Error>::missing_field($tag))?;
                        ::core::result::Result::Ok($name::from_record_parts(::core::option::Option::Some(tag), content))
                    }
                }
                d.deserialize_map(V)
            }
        }

    };
}
