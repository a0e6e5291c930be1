//! Documents: what D stores under each key.
//!
//! A document is a flat map from field name to a [`Scalar`]: no nesting, no arrays, as in
//! the seed's `{"name": "Alice", "status": "active"}`. Fields are kept in a `BTreeMap` so a
//! document has one canonical order, which makes export, checksums and tests
//! deterministic.
//!
//! Floats must be finite: JSON cannot carry NaN or infinity, and a store that accepted
//! them could not export what it holds. Timestamps are microseconds since the Unix epoch
//! (UTC); in JSON they travel as `{"$timestamp": "2025-01-30T12:00:00Z"}`, the one object
//! form a flat document allows, so a string that happens to look like a date stays a
//! string.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Error, Result};

/// A document: field name to scalar value, in field-name order.
pub type Document = BTreeMap<String, Scalar>;

/// Microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses an RFC 3339 timestamp (`2025-01-30T12:00:00Z`, any offset).
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp> {
        let parsed = DateTime::parse_from_rfc3339(text)
            .map_err(|e| Error::InvalidValue(format!("bad timestamp {text:?}: {e}")))?;
        Ok(Timestamp(parsed.timestamp_micros()))
    }

    /// Formats as RFC 3339 in UTC, with as many fractional digits as needed.
    pub fn to_rfc3339(self) -> String {
        match DateTime::<Utc>::from_timestamp_micros(self.0) {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            // Outside chrono's range (about ±262,000 years): keep the raw number visible.
            None => format!("@{}us", self.0),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Timestamp(Timestamp),
}

impl Scalar {
    /// Checks that the value can be stored and exported (floats must be finite).
    pub fn validate(&self) -> Result<()> {
        match self {
            Scalar::Float(f) if !f.is_finite() => Err(Error::InvalidValue(format!(
                "float {f} is not finite; D stores only finite floats"
            ))),
            _ => Ok(()),
        }
    }

    /// The JSON form of this value.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Scalar::Null => J::Null,
            Scalar::Bool(b) => J::Bool(*b),
            Scalar::Int(i) => J::from(*i),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Scalar::Text(s) => J::String(s.clone()),
            Scalar::Timestamp(t) => {
                let mut object = serde_json::Map::new();
                object.insert(TIMESTAMP_TAG.to_string(), J::String(t.to_rfc3339()));
                J::Object(object)
            }
        }
    }

    /// Reads a scalar from its JSON form; anything nested is an error.
    pub fn from_json(value: &serde_json::Value) -> std::result::Result<Scalar, String> {
        use serde_json::Value as J;
        Ok(match value {
            J::Null => Scalar::Null,
            J::Bool(b) => Scalar::Bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Scalar::Int(i)
                } else if n.is_u64() {
                    return Err(format!(
                        "integer {n} does not fit in a signed 64-bit integer"
                    ));
                } else {
                    Scalar::Float(n.as_f64().ok_or_else(|| format!("bad number {n}"))?)
                }
            }
            J::String(s) => Scalar::Text(s.clone()),
            J::Object(object) => match (object.len(), object.get(TIMESTAMP_TAG)) {
                (1, Some(J::String(text))) => {
                    Scalar::Timestamp(Timestamp::parse_rfc3339(text).map_err(|e| e.to_string())?)
                }
                _ => {
                    return Err(format!(
                        "nested objects are not allowed (only {{\"{TIMESTAMP_TAG}\": \"...\"}})"
                    ));
                }
            },
            J::Array(_) => return Err("arrays are not allowed in a flat document".to_string()),
        })
    }

    /// Parses a value typed on a command line: `null`, `true`/`false`, an integer, a float,
    /// an RFC 3339 timestamp, and otherwise the text itself.
    pub fn parse_cli(text: &str) -> Scalar {
        match text {
            "null" => Scalar::Null,
            "true" => Scalar::Bool(true),
            "false" => Scalar::Bool(false),
            _ => {
                if let Ok(i) = text.parse::<i64>() {
                    Scalar::Int(i)
                } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    Scalar::Float(f)
                } else if let Ok(t) = Timestamp::parse_rfc3339(text) {
                    Scalar::Timestamp(t)
                } else {
                    Scalar::Text(text.to_string())
                }
            }
        }
    }
}

/// One field's value, borrowed: what a document read in place from the log's bytes
/// holds ([`crate::record::DocRef`]), or a view of a [`Scalar`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScalarRef<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
    Timestamp(Timestamp),
}

impl ScalarRef<'_> {
    /// The owned value.
    pub fn to_scalar(self) -> Scalar {
        match self {
            ScalarRef::Null => Scalar::Null,
            ScalarRef::Bool(b) => Scalar::Bool(b),
            ScalarRef::Int(i) => Scalar::Int(i),
            ScalarRef::Float(f) => Scalar::Float(f),
            ScalarRef::Text(s) => Scalar::Text(s.to_string()),
            ScalarRef::Timestamp(t) => Scalar::Timestamp(t),
        }
    }
}

impl Scalar {
    /// The value, borrowed.
    pub fn borrowed(&self) -> ScalarRef<'_> {
        match self {
            Scalar::Null => ScalarRef::Null,
            Scalar::Bool(b) => ScalarRef::Bool(*b),
            Scalar::Int(i) => ScalarRef::Int(*i),
            Scalar::Float(f) => ScalarRef::Float(*f),
            Scalar::Text(s) => ScalarRef::Text(s),
            Scalar::Timestamp(t) => ScalarRef::Timestamp(*t),
        }
    }
}

/// The one key an object may have in a document's JSON: a timestamp.
pub const TIMESTAMP_TAG: &str = "$timestamp";

/// Checks every value of a document.
pub fn validate_document(doc: &Document) -> Result<()> {
    doc.values().try_for_each(Scalar::validate)
}

/// The JSON object form of a document.
pub fn document_to_json(doc: &Document) -> serde_json::Value {
    serde_json::Value::Object(
        doc.iter()
            .map(|(field, value)| (field.clone(), value.to_json()))
            .collect(),
    )
}

/// Reads a document from a JSON object.
pub fn document_from_json(value: &serde_json::Value) -> std::result::Result<Document, String> {
    let object = value
        .as_object()
        .ok_or_else(|| "a document must be a JSON object".to_string())?;
    object
        .iter()
        .map(|(field, value)| {
            Scalar::from_json(value)
                .map(|scalar| (field.clone(), scalar))
                .map_err(|e| format!("field {field:?}: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_every_type() {
        let doc: Document = [
            ("n".to_string(), Scalar::Null),
            ("b".to_string(), Scalar::Bool(true)),
            ("i".to_string(), Scalar::Int(-7)),
            ("f".to_string(), Scalar::Float(1.0)),
            (
                "s".to_string(),
                Scalar::Text("2025-01-30T00:00:00Z".to_string()),
            ),
            (
                "t".to_string(),
                Scalar::Timestamp(Timestamp(1_738_195_200_123_456)),
            ),
        ]
        .into_iter()
        .collect();
        let json = document_to_json(&doc);
        assert_eq!(document_from_json(&json), Ok(doc));
    }

    #[test]
    fn nested_values_and_huge_integers_are_rejected() {
        for bad in [
            r#"{"a": [1]}"#,
            r#"{"a": {"b": 1}}"#,
            r#"{"a": 18446744073709551615}"#,
        ] {
            let json: serde_json::Value = serde_json::from_str(bad).unwrap();
            assert!(document_from_json(&json).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn cli_values_parse_to_their_natural_type() {
        assert_eq!(Scalar::parse_cli("active"), Scalar::Text("active".into()));
        assert_eq!(Scalar::parse_cli("42"), Scalar::Int(42));
        assert_eq!(Scalar::parse_cli("2.5"), Scalar::Float(2.5));
        assert_eq!(Scalar::parse_cli("NaN"), Scalar::Text("NaN".into()));
        assert_eq!(Scalar::parse_cli("true"), Scalar::Bool(true));
    }
}
