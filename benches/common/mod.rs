//! What the benchmarks share: reading back the medians criterion wrote in
//! this run.

use std::path::PathBuf;
use std::time::SystemTime;

/// Criterion's results written since this run started.
pub struct Results {
    since: SystemTime,
}

impl Results {
    /// Start counting now: results written before are from other runs.
    pub fn since_now() -> Results {
        Results {
            since: SystemTime::now(),
        }
    }

    /// The median (ns) of `group/id`, if criterion measured it in this run
    /// (a result left from an earlier run, for a benchmark this run
    /// filtered out, is not reported as this run's).
    pub fn median_ns(&self, group: &str, id: &str) -> Option<f64> {
        let base = std::env::var_os("CRITERION_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let target = std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
                target.join("criterion")
            });
        let path = base.join(group).join(id).join("new").join("estimates.json");
        let written = std::fs::metadata(&path).ok()?.modified().ok()?;
        if written < self.since {
            return None;
        }
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
        v["median"]["point_estimate"].as_f64()
    }
}
