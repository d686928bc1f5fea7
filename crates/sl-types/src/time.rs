//! Instants and occurrence windows.

/// A UTC instant, in whole seconds since the Unix epoch.
///
/// Seconds are enough: no source we know publishes sub-second occurrence times, and an
/// `i64` keeps events small and sortable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn as_second(self) -> i64 {
        self.0
    }
}

/// When an event happened, as a half-open window `[from, to)` of UTC instants.
///
/// A source that gives the minute of occurrence yields a one-minute window; a
/// day-resolution source (e.g. the Portland calls for service) yields the local day,
/// which is 23, 24 or 25 hours long depending on daylight-saving changes. Analytics
/// that need one instant use [`TimeWindow::midpoint`]; aoristic methods spread the
/// event over the whole window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    /// First instant of the window (inclusive).
    pub from: Timestamp,
    /// End of the window (exclusive); always greater than `from`.
    pub to: Timestamp,
}

impl TimeWindow {
    /// Builds a window, or `None` when `to` is not after `from`.
    pub fn new(from: Timestamp, to: Timestamp) -> Option<Self> {
        (to > from).then_some(Self { from, to })
    }

    /// Length of the window in seconds.
    pub fn seconds(&self) -> i64 {
        self.to.0 - self.from.0
    }

    /// The instant halfway through the window (rounded down).
    pub fn midpoint(&self) -> Timestamp {
        Timestamp(self.from.0 + self.seconds() / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rejects_empty_and_reversed() {
        assert!(TimeWindow::new(Timestamp(10), Timestamp(10)).is_none());
        assert!(TimeWindow::new(Timestamp(10), Timestamp(5)).is_none());
        let w = TimeWindow::new(Timestamp(0), Timestamp(86_400)).expect("valid window");
        assert_eq!(w.seconds(), 86_400);
        assert_eq!(w.midpoint(), Timestamp(43_200));
    }
}
