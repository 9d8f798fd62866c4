//! How long a producer waits before it sends a failed batch again. Up to 3.6 a constant
//! `retry.backoff.ms`; from 3.7 (KIP-580) Kafka's `ExponentialBackoff`: `retry.backoff.ms`
//! doubling per retry up to `retry.backoff.max.ms`, each wait scaled by a random factor in
//! [0.8, 1.2) and capped at the maximum. The randomness comes from a small generator the
//! producer seeds from the run's seed, so a run stays reproducible.

/// Kafka's `CommonClientConfigs.RETRY_BACKOFF_EXP_BASE`.
const MULTIPLIER: f64 = 2.0;
/// Kafka's `CommonClientConfigs.RETRY_BACKOFF_JITTER`.
const JITTER: f64 = 0.2;

/// The retry backoff policy of a release line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryBackoff {
    initial_ms: u64,
    max_ms: u64,
    /// `log2(max / initial)`, Kafka's `expMax`; 0 means a constant backoff.
    exp_max: f64,
}

impl RetryBackoff {
    /// Before KIP-580: always `retry.backoff.ms`.
    pub fn constant(retry_backoff_ms: u64) -> RetryBackoff {
        RetryBackoff { initial_ms: retry_backoff_ms, max_ms: retry_backoff_ms, exp_max: 0.0 }
    }

    /// KIP-580 (`ExponentialBackoff(initial, 2, max, 0.2)`): a `retry.backoff.ms` above the
    /// maximum gives a constant backoff of the maximum.
    pub fn exponential(retry_backoff_ms: u64, retry_backoff_max_ms: u64) -> RetryBackoff {
        let initial_ms = retry_backoff_ms.min(retry_backoff_max_ms);
        let exp_max = if retry_backoff_max_ms > initial_ms {
            (retry_backoff_max_ms as f64 / initial_ms.max(1) as f64).ln() / MULTIPLIER.ln()
        } else {
            0.0
        };
        RetryBackoff { initial_ms, max_ms: retry_backoff_max_ms, exp_max }
    }

    /// Kafka's `ExponentialBackoff.backoff(attempts)`: the wait after the `attempts`-th retry
    /// (0 for the first), with `unit` a uniform draw in [0, 1) for the jitter.
    pub fn backoff_ms(&self, attempts: u32, unit: f64) -> u64 {
        if self.exp_max == 0.0 {
            return self.initial_ms;
        }
        let exp = f64::from(attempts).min(self.exp_max);
        let term = self.initial_ms as f64 * MULTIPLIER.powf(exp);
        let factor = (1.0 - JITTER) + 2.0 * JITTER * unit;
        ((factor * term) as u64).min(self.max_ms)
    }
}

/// A SplitMix64 stream: the jitter source, seeded from the run's RNG by the producer process.
#[derive(Clone, Debug)]
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        Jitter(seed)
    }

    /// A uniform draw in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_3_7_defaults_double_from_100_ms_to_1_s() {
        let b = RetryBackoff::exponential(100, 1000);
        // Without jitter (the middle of the range): 100, 200, 400, 800, then capped at 1000.
        let waits: Vec<u64> = (0..6).map(|n| b.backoff_ms(n, 0.5)).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        // The jitter spans [0.8, 1.2) of the term, never past the maximum.
        assert_eq!((b.backoff_ms(0, 0.0), b.backoff_ms(2, 0.0)), (80, 320));
        assert_eq!(b.backoff_ms(3, 0.999), 959);
        assert_eq!(b.backoff_ms(4, 0.999), 1000);
    }

    #[test]
    fn a_backoff_at_or_above_the_maximum_is_constant() {
        assert_eq!(RetryBackoff::exponential(2000, 1000).backoff_ms(5, 0.3), 1000);
        assert_eq!(RetryBackoff::exponential(1000, 1000).backoff_ms(5, 0.3), 1000);
        assert_eq!(RetryBackoff::constant(100).backoff_ms(9, 0.9), 100);
    }

    #[test]
    fn the_jitter_stream_is_uniform_and_reproducible() {
        let (mut a, mut b) = (Jitter::new(7), Jitter::new(7));
        let draws: Vec<f64> = (0..1000).map(|_| a.unit()).collect();
        assert!(draws.iter().all(|&u| (0.0..1.0).contains(&u)));
        assert!((0..1000).all(|i| b.unit() == draws[i]));
        let mean = draws.iter().sum::<f64>() / 1000.0;
        assert!((0.45..0.55).contains(&mean), "{mean}");
    }
}
