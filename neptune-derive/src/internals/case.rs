//! `rename_all` rules: field names are snake_case and variant names PascalCase in Rust; a rule
//! turns them into the path segment (or stored String) style the user asks for.

/// A `rename_all` rule.
#[allow(clippy::enum_variant_names)] // the names of the cases
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RenameRule {
    LowerCase,
    UpperCase,
    PascalCase,
    CamelCase,
    SnakeCase,
    ScreamingSnakeCase,
    KebabCase,
    ScreamingKebabCase,
}

/// Every rule with its name, as written in `rename_all = "…"`.
pub const RULES: [(&str, RenameRule); 8] = [
    ("lowercase", RenameRule::LowerCase),
    ("UPPERCASE", RenameRule::UpperCase),
    ("PascalCase", RenameRule::PascalCase),
    ("camelCase", RenameRule::CamelCase),
    ("snake_case", RenameRule::SnakeCase),
    ("SCREAMING_SNAKE_CASE", RenameRule::ScreamingSnakeCase),
    ("kebab-case", RenameRule::KebabCase),
    ("SCREAMING-KEBAB-CASE", RenameRule::ScreamingKebabCase),
];

impl RenameRule {
    /// The rule named `name`, or the message listing the valid names.
    pub fn from_str(name: &str) -> Result<Self, String> {
        RULES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .ok_or_else(|| {
                let names: Vec<String> = RULES.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                format!(
                    "unknown rename_all rule \"{name}\"; expected one of {}",
                    names.join(", ")
                )
            })
    }

    /// A snake_case field name under the rule.
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::LowerCase | RenameRule::SnakeCase => field.to_owned(),
            RenameRule::UpperCase | RenameRule::ScreamingSnakeCase => field.to_ascii_uppercase(),
            RenameRule::PascalCase => {
                let mut out = String::new();
                let mut upper = true;
                for c in field.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            RenameRule::CamelCase => {
                let pascal = RenameRule::PascalCase.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => pascal,
                }
            }
            RenameRule::KebabCase => field.replace('_', "-"),
            RenameRule::ScreamingKebabCase => field.to_ascii_uppercase().replace('_', "-"),
        }
    }

    /// A PascalCase variant name under the rule.
    pub fn apply_to_variant(self, variant: &str) -> String {
        match self {
            RenameRule::PascalCase => variant.to_owned(),
            RenameRule::LowerCase => variant.to_ascii_lowercase(),
            RenameRule::UpperCase => variant.to_ascii_uppercase(),
            RenameRule::CamelCase => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => String::new(),
                }
            }
            RenameRule::SnakeCase => {
                let mut out = String::new();
                for (i, c) in variant.char_indices() {
                    if i > 0 && c.is_uppercase() {
                        out.push('_');
                    }
                    out.extend(c.to_lowercase());
                }
                out
            }
            RenameRule::ScreamingSnakeCase => RenameRule::SnakeCase
                .apply_to_variant(variant)
                .to_ascii_uppercase(),
            RenameRule::KebabCase => RenameRule::SnakeCase
                .apply_to_variant(variant)
                .replace('_', "-"),
            RenameRule::ScreamingKebabCase => RenameRule::ScreamingSnakeCase
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule::*;
    use super::*;

    #[test]
    fn fields() {
        for (rule, out) in [
            (LowerCase, "max_epochs"),
            (UpperCase, "MAX_EPOCHS"),
            (PascalCase, "MaxEpochs"),
            (CamelCase, "maxEpochs"),
            (SnakeCase, "max_epochs"),
            (ScreamingSnakeCase, "MAX_EPOCHS"),
            (KebabCase, "max-epochs"),
            (ScreamingKebabCase, "MAX-EPOCHS"),
        ] {
            assert_eq!(rule.apply_to_field("max_epochs"), out, "{rule:?}");
        }
    }

    #[test]
    fn variants() {
        for (rule, out) in [
            (LowerCase, "adamweight"),
            (UpperCase, "ADAMWEIGHT"),
            (PascalCase, "AdamWeight"),
            (CamelCase, "adamWeight"),
            (SnakeCase, "adam_weight"),
            (ScreamingSnakeCase, "ADAM_WEIGHT"),
            (KebabCase, "adam-weight"),
            (ScreamingKebabCase, "ADAM-WEIGHT"),
        ] {
            assert_eq!(rule.apply_to_variant("AdamWeight"), out, "{rule:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(RenameRule::from_str("kebab-case"), Ok(KebabCase));
        assert!(RenameRule::from_str("Kebab")
            .unwrap_err()
            .contains("\"SCREAMING-KEBAB-CASE\""));
    }
}
