//! Measured values: a number with a unit from a typed set.

use std::fmt;

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
        // The object is read by one visitor for every unit type; only the
        // unit's own text is then read as `U`.
        let (value, unit, unknown) = d.deserialize_map(Parts)?;
        let unit = U::deserialize(de::value::StringDeserializer::<D::Error>::new(unit))?;
        Ok(Quantity {
            value,
            unit,
            unknown,
        })
    }
}

/// A measured value's parts, the unit still as text.
struct Parts;

impl<'de> Visitor<'de> for Parts {
    type Value = (Number, String, UnknownFields);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a measured value {\"value\": <number>, \"unit\": <unit>}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut value = None;
        let mut unit = None;
        let mut unknown = UnknownFields::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" => value = Some(map.next_value::<Number>()?),
                "unit" => unit = Some(map.next_value::<String>()?),
                _ => {
                    let v = map.next_value::<RawJson>()?;
                    crate::tolerant::keep_unknown(&mut unknown, "Quantity", key, v);
                }
            }
        }
        Ok((
            value.ok_or_else(|| de::Error::missing_field("value"))?,
            unit.ok_or_else(|| de::Error::missing_field("unit"))?,
            unknown,
        ))
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

#[cfg(test)]
mod tests {
    use super::Quantity;
    use crate::enums::TimeUnit;
    use crate::observe::{self, Observation};

    #[test]
    fn a_unit_is_read_as_its_enum_and_an_unlisted_one_is_kept_and_reported() {
        let (q, seen) = observe::collect(|| {
            serde_json::from_str::<Quantity<TimeUnit>>(r#"{"unit": "s", "value": 2}"#)
        });
        assert_eq!(q.unwrap().unit, TimeUnit::Second);
        assert!(seen.is_empty(), "{seen:?}");

        let (q, seen) = observe::collect(|| {
            serde_json::from_str::<Quantity<TimeUnit>>(r#"{"value": 2, "unit": "fortnight"}"#)
        });
        assert_eq!(q.unwrap().unit, TimeUnit::Unknown("fortnight".into()));
        assert_eq!(
            seen,
            [Observation::UnknownEnumValue {
                enum_name: "TimeUnit",
                value: "fortnight".into()
            }]
        );
    }

    #[test]
    fn a_missing_or_mistyped_part_is_an_error_naming_it() {
        let e = crate::decode::<Quantity<TimeUnit>>(br#"{"value": 2}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `unit`"), "{e}");
        let e = crate::decode::<Quantity<TimeUnit>>(br#"{"value": 2, "unit": 7}"#).unwrap_err();
        assert_eq!(e.path, "unit", "{e}");
        let e = crate::decode::<Quantity<TimeUnit>>(br#"{"value": "x", "unit": "s"}"#).unwrap_err();
        assert_eq!(e.path, "value", "{e}");
    }
}
