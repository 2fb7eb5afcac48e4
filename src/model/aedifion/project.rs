//! An aedifion.io project and the topic filters it implies (reference §3).

/// An aedifion.io project: the first two topic levels, `<load_balancing_group>/<project_handle>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AedifionProject {
    /// First topic level, assigned by aedifion (e.g. `lbg01`).
    pub load_balancing_group: String,
    /// Second topic level, the project's fixed handle (e.g. `mybuilding`).
    pub project_handle: String,
}

impl AedifionProject {
    /// Parses `lbg/handle`; `None` unless it is exactly two non-empty levels without wildcards.
    pub fn parse(text: &str) -> Option<Self> {
        let (group, handle) = text.trim().split_once('/')?;
        let level_ok = |level: &str| {
            !level.is_empty() && level.trim() == level && !level.contains(['/', '+', '#', '\0'])
        };
        (level_ok(group) && level_ok(handle)).then(|| Self {
            load_balancing_group: group.to_owned(),
            project_handle: handle.to_owned(),
        })
    }

    /// `<lbg>/<project>/#`: the project's time series (what an aedifion account is granted).
    pub fn data_filter(&self) -> String {
        format!("{}/{}/#", self.load_balancing_group, self.project_handle)
    }

    /// `META/<lbg>/<project>/#`: datapoint metadata (JSON).
    pub fn meta_filter(&self) -> String {
        format!("META/{}", self.data_filter())
    }

    /// `CONTROLS/<lbg>/<project>/#`: control messages (SWOP JSON).
    pub fn controls_filter(&self) -> String {
        format!("CONTROLS/{}", self.data_filter())
    }
}

impl std::fmt::Display for AedifionProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.load_balancing_group, self.project_handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aedifion_project_parses_two_levels_and_derives_filters() {
        let project = AedifionProject::parse("lbg01/mybuilding").expect("valid");
        assert_eq!(project.meta_filter(), "META/lbg01/mybuilding/#");
        assert_eq!(project.controls_filter(), "CONTROLS/lbg01/mybuilding/#");
        for bad in ["lbg01", "lbg01/", "/x", "a/b/c", "a/+", "a/#"] {
            assert_eq!(AedifionProject::parse(bad), None, "{bad}");
        }
    }
}
