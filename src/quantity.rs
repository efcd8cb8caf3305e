//! Measured values: a number with a unit from a typed set.

use serde::{Deserialize, Serialize};

/// A measured value as the API sends it: `{"value": 2.5, "unit": "min"}`.
///
/// The unit type is the open enum of the quantity's physical kind
/// (`TimeUnit`, `LengthUnit`, ...), so a length cannot be given where a
/// duration is expected. Which units of that kind a particular field allows is
/// checked when a request is built.
///
/// ```
/// use brainstem::Quantity;
/// use brainstem::enums::TimeUnit;
/// let q = Quantity::new(2.5, TimeUnit::Min);
/// assert_eq!(serde_json::to_string(&q).unwrap(), r#"{"value":2.5,"unit":"min"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Quantity<U> {
    /// The number.
    pub value: f64,
    /// Its unit.
    pub unit: U,
}

impl<U> Quantity<U> {
    /// A value with its unit.
    pub fn new(value: f64, unit: U) -> Self {
        Quantity { value, unit }
    }
}
