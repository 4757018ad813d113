//! ECS's cluster defaults: the settings a cluster created without them reports
//! (`containerInsights: disabled`).

use std::collections::BTreeMap;

/// The settings a new cluster reports, by name.
pub const SETTINGS: &[(&str, &str)] = &[("containerInsights", "disabled")];

/// The settings with the ones a new cluster reports added where `given` leaves them out.
pub fn fill_settings(given: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = given.clone();
    for (k, v) in SETTINGS {
        out.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    out
}

/// The settings without those equal to what a new cluster reports.
pub fn strip_settings(given: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    given
        .iter()
        .filter(|(k, v)| !SETTINGS.contains(&(k.as_str(), v.as_str())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_settings_table_fills_idempotently_and_strips_what_it_fills(
            insights in prop::option::of(prop::sample::select(vec!["enabled", "disabled", "enhanced"])),
        ) {
            let given: BTreeMap<String, String> = insights
                .map(|v| ("containerInsights".to_string(), v.to_string()))
                .into_iter()
                .collect();
            prop_assert_eq!(fill_settings(&fill_settings(&given)), fill_settings(&given));
            prop_assert_eq!(strip_settings(&fill_settings(&given)), strip_settings(&given));
        }
    }
}
