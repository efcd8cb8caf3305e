//! Measured values: a number with a unit from a typed set.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::{Absent, Number, RawJson, UnknownFields};

/// A measured value as the API sends it: `{"value": 2.5, "unit": "min"}`.
///
/// The unit type is the open enum of the quantity's physical kind
/// (`TimeUnit`, `LengthUnit`, ...), so a length cannot be given where a
/// duration is expected. Which units of that kind a particular field allows is
/// checked when a request is built. The value is a [`Number`], kept exactly
/// as received (`50` stays `50`, `2.50` stays `2.50`); keys other than
/// `value` and `unit` are kept in `unknown` and written back.
///
/// Units are named in words (`LengthUnit::Micrometre` is `µm`,
/// `ConcentrationUnit::Micromolar` is `µM`); the wire value is the symbol,
/// shown in each variant's documentation:
///
/// ```
/// use brainstem::enums::{ConcentrationUnit, ForceUnit, LengthUnit};
/// assert_eq!(LengthUnit::Micrometre.as_str(), "µm");
/// assert_eq!(ConcentrationUnit::Micromolar.as_str(), "µM");
/// assert_eq!(LengthUnit::Millimetre.as_str(), "mm");
/// assert_eq!(ConcentrationUnit::Millimolar.as_str(), "mM");
/// assert_eq!(ForceUnit::KilogramForce.as_str(), "kgf");
/// assert_eq!(LengthUnit::from("µm"), LengthUnit::Micrometre);
/// assert_eq!(LengthUnit::from("km"), LengthUnit::Unknown("km".into()));
/// ```
///
/// The case-only names of earlier drafts are gone (`MicroM` was µm in one
/// enum and µM in another):
///
/// ```compile_fail,E0599
/// let u = brainstem::enums::LengthUnit::MicroM;
/// ```
///
/// ```compile_fail,E0599
/// let u = brainstem::enums::ConcentrationUnit::MM;
/// ```
///
/// ```
/// use brainstem::Quantity;
/// use brainstem::enums::TimeUnit;
/// let q = Quantity::new(2.5, TimeUnit::Minute);
/// assert_eq!(serde_json::to_string(&q).unwrap(), r#"{"value":2.5,"unit":"min"}"#);
/// assert_eq!(q.value.as_f64(), 2.5);
///
/// let r: Quantity<TimeUnit> = serde_json::from_str(r#"{"value": 3, "unit": "s", "sd": 0.50}"#).unwrap();
/// assert_eq!(r.value.as_i64(), Some(3));
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"value":3,"unit":"s","sd":0.50}"#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity<U> {
    /// The number.
    pub value: Number,
    /// Its unit.
    pub unit: U,
    /// Keys other than `value` and `unit`, as received.
    pub unknown: UnknownFields,
}

impl<U> Quantity<U> {
    /// A value with its unit (`50.0`, `50`, or a [`Number`]).
    pub fn new(value: impl Into<Number>, unit: U) -> Self {
        Quantity {
            value: value.into(),
            unit,
            unknown: UnknownFields::new(),
        }
    }
}

impl<U: Serialize> Serialize for Quantity<U> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2 + self.unknown.len()))?;
        m.serialize_entry("value", &self.value)?;
        m.serialize_entry("unit", &self.unit)?;
        for (k, v) in self.unknown.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, U: Deserialize<'de>> Deserialize<'de> for Quantity<U> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<U>(PhantomData<U>);
        impl<'de, U: Deserialize<'de>> Visitor<'de> for V<U> {
            type Value = Quantity<U>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a measured value {\"value\": <number>, \"unit\": <unit>}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Quantity<U>, A::Error> {
                let mut value = None;
                let mut unit = None;
                let mut unknown = UnknownFields::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" => value = Some(map.next_value::<Number>()?),
                        "unit" => unit = Some(map.next_value::<U>()?),
                        _ => {
                            let v = map.next_value::<RawJson>()?;
                            crate::tolerant::keep_unknown(&mut unknown, "Quantity", key, v);
                        }
                    }
                }
                Ok(Quantity {
                    value: value.ok_or_else(|| de::Error::missing_field("value"))?,
                    unit: unit.ok_or_else(|| de::Error::missing_field("unit"))?,
                    unknown,
                })
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

impl<U: Absent> Absent for Quantity<U> {
    /// `0` of the absent unit.
    fn absent() -> Self {
        Quantity::new(Number::absent(), U::absent())
    }
    fn is_absent(&self) -> bool {
        self.value.is_absent() && self.unit.is_absent() && self.unknown.is_empty()
    }
}
