//! Seeded random numbers. Every permutation test takes a seed, and each unit of
//! parallel work derives its own stream from `(seed, stream)`, so results are the same
//! bit for bit whatever the number of threads.

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator used throughout Streetlight's analytics.
pub type SeededRng = Xoshiro256PlusPlus;

/// A generator for one stream of a seeded computation (e.g. one unit, one chunk of
/// permutations). Streams are decorrelated by SplitMix64 seeding of the pair.
pub fn stream(seed: u64, stream: u64) -> SeededRng {
    let mut s = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_exact_mut(8) {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    SeededRng::from_seed(bytes)
}

/// A uniform integer in `0..n` without modulo bias (Lemire's method). `n` must be > 0.
pub fn below(rng: &mut SeededRng, n: u64) -> u64 {
    debug_assert!(n > 0);
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        let low = m as u64;
        if low >= n || low >= n.wrapping_neg() % n {
            return (m >> 64) as u64;
        }
    }
}

/// A uniform float in `[0, 1)` with 53 random bits.
pub fn unit(rng: &mut SeededRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Shuffles a slice in place (Fisher–Yates).
pub fn shuffle<T>(rng: &mut SeededRng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Convenience: the next `u64` of a generator, for deriving seeds.
pub trait NextSeed {
    fn next_u64_value(&mut self) -> u64;
}

impl NextSeed for SeededRng {
    fn next_u64_value(&mut self) -> u64 {
        self.next_u64()
    }
}
