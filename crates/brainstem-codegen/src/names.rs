//! Turning names from the spec into Rust identifiers.
//!
//! Field names follow typify's rules (snake case, keywords get a trailing
//! underscore) so the code we emit next to typify's output names the same
//! fields. Enum values (units such as `µL/min`, choices such as
//! `Ketamine + Xylazine`) get readable, collision-free variant names.

use heck::{ToPascalCase, ToSnakeCase};

const KEYWORDS: &[&str] = &[
    "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "Self", "self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

fn finish(out: String, prefix: &str) -> String {
    let out = match out.chars().next() {
        None => prefix.to_string(),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("{prefix}{out}"),
    };
    if KEYWORDS.contains(&out.as_str()) {
        format!("{out}_")
    } else {
        out
    }
}

fn ascii_words(input: &str) -> String {
    input
        .replace('\'', "")
        .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-")
}

/// The Rust field name typify gives a JSON property.
pub fn field(json_name: &str) -> String {
    finish(ascii_words(json_name).to_snake_case(), "x")
}

/// A PascalCase type or variant name for a plain name (`date_time` -> `DateTime`).
pub fn pascal(name: &str) -> String {
    finish(ascii_words(name).to_pascal_case(), "X")
}

/// Spell out symbols that carry meaning in unit and choice values.
fn spell(value: &str) -> String {
    let mut s = String::new();
    for c in value.chars() {
        match c {
            'µ' | 'μ' => s.push_str(" micro "),
            '°' => s.push_str(" deg "),
            '%' => s.push_str(" percent "),
            'Ω' => s.push_str(" ohm "),
            '²' => s.push_str(" squared "),
            '³' => s.push_str(" cubed "),
            '/' => s.push_str(" per "),
            '+' => s.push_str(" plus "),
            '±' => s.push_str(" plus minus "),
            '<' => s.push_str(" lt "),
            '>' => s.push_str(" gt "),
            '=' => s.push_str(" eq "),
            '&' => s.push_str(" and "),
            '#' => s.push_str(" number "),
            c if c.is_ascii_alphanumeric() => s.push(c),
            ' ' | '-' | '_' | '.' | ',' | '(' | ')' | ':' => s.push(' '),
            _ => s.push(' '),
        }
    }
    s
}

/// Variant names for the values of one enum, unique within it.
///
/// Case carries meaning in units (`mM` is not `MM`, `m` is not `M`), so a
/// value whose plain PascalCase form collides keeps its case letters spelled
/// out with an `Upper`/`Lower` hint instead of being silently merged.
pub fn variants(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let mut name = finish(spell(v).to_pascal_case(), "V");
        if name == "Unknown" {
            name = "UnknownValue".into();
        }
        if out.contains(&name) {
            // Spell the case of every letter to disambiguate (`mM` -> `LowerMUpperM`).
            let mut cased = String::new();
            for c in v.chars() {
                if c.is_ascii_lowercase() {
                    cased.push_str("Lower");
                    cased.push(c.to_ascii_uppercase());
                } else if c.is_ascii_uppercase() {
                    cased.push_str("Upper");
                    cased.push(c);
                }
            }
            name = format!("{name}{cased}");
        }
        let mut n = 2;
        let base = name.clone();
        while out.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        out.push(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert_eq!(field("type"), "type_");
        assert_eq!(field("date_time"), "date_time");
        assert_eq!(field("anestheticAgent"), "anesthetic_agent");
    }

    #[test]
    fn units() {
        let v: Vec<String> = ["µL/min", "mL", "ML", "m", "M", "°C", "% w/v"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let n = variants(&v);
        assert_eq!(n[0], "MicroLPerMin");
        assert_eq!(n.len(), 7);
        let mut sorted = n.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 7);
    }
}
