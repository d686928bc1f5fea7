//! Per-event near-repeat roles: which events started a near-repeat chain, which
//! followed one, and which stood alone, for one space–time window (for example the
//! window a Knox table found significant).
//!
//! The roles follow the Near Repeat Calculator's event classification (Ratcliffe 2009)
//! as used by Haberman & Ratcliffe (2012), with the same-location repeat split out as
//! in the repeat/near-repeat literature (Townsley, Homel & Chaseling 2003; Johnson et
//! al. 2007):
//!
//! - Haberman, C. P., & Ratcliffe, J. H. (2012). The predictive policing challenges of
//!   near repeat armed street robberies. *Policing: A Journal of Policy and Practice*,
//!   6(2), 151–166.
//! - Ratcliffe, J. H. (2009). *Near Repeat Calculator* (version 1.3). Temple University
//!   and the National Institute of Justice.
//! - Townsley, M., Homel, R., & Chaseling, J. (2003). Infectious burglaries: a test of
//!   the near repeat hypothesis. *British Journal of Criminology*, 43(3), 615–633.
//!
//! # Definitions
//!
//! Events are ordered by time `t`, ties broken by input order (pass events sorted by
//! their full timestamp, so that same-day ties follow the true order). An earlier event
//! `i` and a later event `j` are *linked* when `t_j − t_i ∈ [0, time)` and their
//! distance `d ∈ [0, space)` (half-open, as the Knox bands). Then event `j` is:
//!
//! - [`NearRepeatRole::Repeat`] if it is linked to an earlier event at the same
//!   location, `d ∈ [0, same_location)`;
//! - otherwise [`NearRepeatRole::NearRepeat`] if it is linked to any earlier event;
//! - otherwise [`NearRepeatRole::Originator`] if a later event is linked to it;
//! - otherwise [`NearRepeatRole::Isolated`].
//!
//! An event that follows one event and precedes another is a (near) repeat, not an
//! originator: an originator starts a chain.
//!
//! # Algorithm
//!
//! Pairs closer than `space` are found once with the bucket grid used by the Knox test
//! and their time order checked; `O(n log n + P)` for `P` close pairs.

use crate::knox::{Distance, KnoxError, SpaceTimePoint, check_points, for_each_close_pair};

/// The role of one event in near-repeat chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NearRepeatRole {
    /// Followed within the window by at least one event, and preceded by none.
    Originator,
    /// Preceded within the window by an event elsewhere (not at the same location).
    NearRepeat,
    /// Preceded within the window by an event at the same location.
    Repeat,
    /// Neither preceded nor followed within the window.
    Isolated,
}

/// The space–time window that links two events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearRepeatWindow {
    /// Distances `< same_location` are the same location (NearRepeat's `[0, 1)` band
    /// by default: 1 m).
    pub same_location: f64,
    /// Distances `< space` are near.
    pub space: f64,
    /// Time differences `< time` (days) are close.
    pub time: f64,
    pub distance: Distance,
}

impl NearRepeatWindow {
    /// A window of `[0, space) × [0, time)` with a 1-unit same-location band and
    /// Manhattan distance.
    pub fn new(space: f64, time: f64) -> Self {
        NearRepeatWindow {
            same_location: 1.0,
            space,
            time,
            distance: Distance::Manhattan,
        }
    }
}

/// Classifies every event for the window; `roles[i]` is the role of `points[i]`.
///
/// # Examples
///
/// ```
/// use sl_analytics::knox::SpaceTimePoint;
/// use sl_analytics::near_repeat::{classify, NearRepeatRole::*, NearRepeatWindow};
/// let pts = [(0.0, 0.0, 0.0), (100.0, 0.0, 2.0), (100.0, 0.0, 5.0), (5000.0, 0.0, 1.0)]
///     .map(|(x, y, t)| SpaceTimePoint { x, y, t });
/// let roles = classify(&pts, &NearRepeatWindow::new(200.0, 7.0)).expect("valid");
/// assert_eq!(roles, vec![Originator, NearRepeat, Repeat, Isolated]);
/// ```
pub fn classify(
    points: &[SpaceTimePoint],
    window: &NearRepeatWindow,
) -> Result<Vec<NearRepeatRole>, KnoxError> {
    let ok = window.space.is_finite()
        && window.space > 0.0
        && window.time.is_finite()
        && window.time > 0.0
        && window.same_location >= 0.0
        && window.same_location <= window.space;
    if !ok {
        return Err(KnoxError::BadWindow);
    }
    check_points(points)?;
    let n = points.len();
    let mut preceded = vec![false; n];
    let mut repeated = vec![false; n];
    let mut followed = vec![false; n];
    for_each_close_pair(points, window.space, false, window.distance, |i, j, d| {
        let (i, j) = (i as usize, j as usize);
        // i < j by index; order by (t, index).
        let (first, second) = if points[j].t < points[i].t {
            (j, i)
        } else {
            (i, j)
        };
        if points[second].t - points[first].t < window.time {
            preceded[second] = true;
            followed[first] = true;
            if d < window.same_location {
                repeated[second] = true;
            }
        }
    });
    Ok((0..n)
        .map(|k| {
            if repeated[k] {
                NearRepeatRole::Repeat
            } else if preceded[k] {
                NearRepeatRole::NearRepeat
            } else if followed[k] {
                NearRepeatRole::Originator
            } else {
                NearRepeatRole::Isolated
            }
        })
        .collect())
}
