use sl_analytics::gistar::gi_star_analytic;
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::weights::Weights;

#[test]
fn grid_is_aligned_and_half_open() {
    let g = Grid::covering([120.0, 310.0, 449.0, 600.0], 100.0).expect("grid");
    assert_eq!((g.x0, g.y0, g.cols, g.rows), (100.0, 300.0, 4, 4));
    assert_eq!(g.cell_of(100.0, 300.0), Some((0, 0)));
    assert_eq!(g.cell_of(200.0, 399.999), Some((0, 1)));
    assert_eq!(g.cell_of(200.0, 400.0), Some((1, 1)));
    assert_eq!(g.cell_of(99.9, 350.0), None);
    assert_eq!(g.centre(1, 2), (350.0, 450.0));
    assert!(Grid::covering([0.0, 0.0, 1.0, 1.0], 0.0).is_err());
    assert!(Grid::covering([0.0, 0.0, 1e9, 1e9], 1.0).is_err());
}

#[test]
fn queen_and_rook_respect_the_mask() {
    let g = Grid::covering([0.0, 0.0, 299.0, 299.0], 100.0).expect("grid");
    // Mask out the centre cell (1, 1).
    let m = MaskedGrid::new(g, |r, c| !(r == 1 && c == 1));
    assert_eq!(m.len(), 8);
    assert_eq!(m.index_of(1, 1), None);
    let q = Weights::queen(&m);
    let r = Weights::rook(&m);
    // Corner (0,0): queen neighbours (0,1), (1,0) [centre masked] = 2; rook the same.
    let i = m.index_of(0, 0).expect("kept");
    assert_eq!(q.cardinality(i), 2);
    assert_eq!(r.cardinality(i), 2);
    // Edge middle (0,1): queen (0,0), (0,2), (1,0), (1,2) = 4; rook (0,0), (0,2) = 2.
    let i = m.index_of(0, 1).expect("kept");
    assert_eq!(q.cardinality(i), 4);
    assert_eq!(r.cardinality(i), 2);
}

/// Hand computation: 3 units on a line, binary weights with self.
/// y = (1, 2, 3); n = 3; ȳ = 2; s² = (1 + 4 + 9)/3 − 4 = 2/3.
/// Unit 0: neighbours {0, 1}, W = 2, G* = 3/6 = 0.5, E = 2/3,
/// Var = 2·1/2 · 1/9 · (2/3)/4 = 1/54, z = (0.5 − 2/3)/√(1/54) = −√54/6.
#[test]
fn gi_star_hand_case() {
    let w = Weights::from_lists(vec![
        vec![(1, 1.0)],
        vec![(0, 1.0), (2, 1.0)],
        vec![(1, 1.0)],
    ])
    .with_self(1.0);
    let r = gi_star_analytic(&[1.0, 2.0, 3.0], &w);
    assert!((r.g[0] - 0.5).abs() < 1e-15);
    assert!((r.expected[0] - 2.0 / 3.0).abs() < 1e-15);
    assert!((r.variance[0] - 1.0 / 54.0).abs() < 1e-15);
    assert!((r.z[0] + 54f64.sqrt() / 6.0).abs() < 1e-12);
    // Symmetric: unit 2 has the opposite score; unit 1 covers everything, so W = n
    // and its variance is zero.
    assert!((r.z[2] - 54f64.sqrt() / 6.0).abs() < 1e-12);
    assert_eq!(r.variance[1], 0.0);
}
