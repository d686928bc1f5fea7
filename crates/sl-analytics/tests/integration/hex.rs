use sl_analytics::hex;

#[test]
fn cells_neighbours_and_outlines() {
    let res = hex::resolution(9).expect("valid");
    assert!(hex::resolution(16).is_err());
    // Philadelphia City Hall.
    let c = hex::cell_of(-75.1636, 39.9526, res).expect("cell");
    let (lon, lat) = hex::centre(c).expect("centre");
    // A resolution-9 cell's centre is within its edge length (~200 m) of the point.
    assert!((lon + 75.1636).abs() < 0.003 && (lat - 39.9526).abs() < 0.003);
    let ring = hex::ring(c).expect("ring");
    assert_eq!(ring.len(), 7);
    assert_eq!(ring.first(), ring.last());
    // The cell and its six neighbours: the centre has 6 links, each outer cell links
    // to the centre and its two ring neighbours.
    let east = hex::cell_of(lon + 0.004, lat, res).expect("cell");
    assert_ne!(east, c);
    let w = hex::contiguity(&[c, east]);
    assert_eq!(w.cardinality(0), 1);
    assert_eq!(w.cardinality(1), 1);
    assert_eq!(hex::label(c).len(), 15);
}
