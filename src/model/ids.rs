//! Names and identifiers: queue names, job ids that encode their queue, and the entropy that
//! makes ids unguessable.

use super::error::ApiError;
use super::time::EpochMs;
use ulid::Ulid;

/// Longest queue name.
pub use super::spec::MAX_QUEUE_NAME_LEN;
/// Length of a ULID in its text form.
const ULID_LEN: usize = 26;
/// Separates the queue name from the ULID in a job id. Queue names may contain it too, but a
/// ULID never does, so an id splits at its last one.
const JOB_ID_SEPARATOR: char = '.';

/// A source of unpredictable bytes. The runtime uses [`OsEntropy`]; tests may seed their own.
pub trait Entropy {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);

    /// A uniformly random fraction in `[0, 1)`, for jitter.
    fn fraction(&mut self) -> f64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The platform's cryptographic random source (`crypto.getRandomValues` on Workers), drawn
/// through a small per-isolate pool: a bulk enqueue needs 100 ids, and one call into the
/// runtime per id cost more than the rest of making them. Each byte is handed out once.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

/// Bytes fetched from the platform at a time.
const POOL_BYTES: usize = 1024;

thread_local! {
    /// Fetched bytes and how many of them were handed out already.
    static POOL: std::cell::RefCell<([u8; POOL_BYTES], usize)> = const { std::cell::RefCell::new(([0; POOL_BYTES], POOL_BYTES)) };
}

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        // The platform source cannot fail on Workers or Linux; an all-zero fallback would
        // only weaken id randomness, never correctness (ids also carry the time).
        if buf.len() > POOL_BYTES {
            let _ = getrandom::fill(buf);
            return;
        }
        POOL.with_borrow_mut(|(bytes, used)| {
            if *used + buf.len() > POOL_BYTES {
                let _ = getrandom::fill(bytes);
                *used = 0;
            }
            buf.copy_from_slice(&bytes[*used..*used + buf.len()]);
            *used += buf.len();
        });
    }
}

/// Checks a queue name: 1–64 chars of `[A-Za-z0-9._-]`, starting with a letter or digit.
/// Dots may repeat and end a name (`a..b`, `a.`), as Spooled allows: only the first
/// character is special, which also keeps `.` and `..` path segments out of every URL.
pub fn validate_queue_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_QUEUE_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if valid {
        Ok(())
    } else {
        Err(ApiError::validation(
            "queue_name",
            "must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit",
        ))
    }
}

/// A job id, `"{queue_name}.{ulid}"`: the Worker routes it to its queue's actor without a
/// lookup, splitting at the last `.` (the queue name may hold dots, the ULID never does). The
/// tenant never appears in it; it always comes from the credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobId {
    /// The queue the job lives in.
    pub queue: String,
    /// The full id text.
    pub text: String,
}

impl JobId {
    /// Mints a new id for a job enqueued at `now` into `queue` (already validated).
    pub fn generate(queue: &str, now: EpochMs, entropy: &mut dyn Entropy) -> JobId {
        let mut random = [0u8; 16];
        entropy.fill(&mut random);
        let ulid = Ulid::from_parts(now.max(0) as u64, u128::from_le_bytes(random));
        JobId { queue: queue.to_owned(), text: format!("{queue}{JOB_ID_SEPARATOR}{ulid}") }
    }

    /// Parses an id from a URL or body; `None` when it is not one of ours.
    pub fn parse(text: &str) -> Option<JobId> {
        // The last separator: everything before it is the queue name, dots included.
        let (queue, ulid) = text.rsplit_once(JOB_ID_SEPARATOR)?;
        validate_queue_name(queue).ok()?;
        (ulid.len() == ULID_LEN && Ulid::from_string(ulid).is_ok())
            .then(|| JobId { queue: queue.to_owned(), text: text.to_owned() })
    }
}

/// A random (version 4) UUID, lowercase: the ids of webhooks and requests.
pub fn random_uuid(entropy: &mut dyn Entropy) -> String {
    let mut bytes = [0u8; 16];
    entropy.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// `len` random characters from `[0-9a-z]`, for tenant ids and key secrets.
pub fn random_token(len: usize, entropy: &mut dyn Entropy) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut bytes = vec![0u8; len];
    entropy.fill(&mut bytes);
    // 256 % 36 = 4: the slight bias toward the first four characters costs < 0.1 bit per char.
    bytes.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pooled source never hands out the same bytes twice, across refills and beside
    /// draws larger than the pool.
    #[test]
    fn os_entropy_draws_never_repeat_across_pool_refills() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..1_000 {
            let mut draw = [0u8; 16];
            OsEntropy.fill(&mut draw);
            assert!(seen.insert(draw), "draw {n} repeated an earlier one");
            if n % 250 == 0 {
                let mut big = vec![0u8; POOL_BYTES + 1];
                OsEntropy.fill(&mut big);
                assert!(big.iter().any(|&b| b != 0));
            }
        }
    }

    struct Counter(u8);
    impl Entropy for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_add(37);
                *b = self.0;
            }
        }
    }

    #[test]
    fn queue_names_follow_the_charset() {
        for ok in ["a", "emails", "Q-1_x", &"a".repeat(64)] {
            assert!(validate_queue_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "_a", "a/b", "ä", &"a".repeat(65), "a b"] {
            assert!(validate_queue_name(bad).is_err(), "{bad}");
        }
    }

    /// Dots go anywhere but first, repeated or last included (as Spooled allows); the length
    /// bound counts them like any character.
    #[test]
    fn queue_names_may_hold_dots_but_not_start_with_one() {
        let dotted_64 = format!("{}.x", "a".repeat(62));
        for ok in ["emails.high", "a.b", "a.", "a..b", "1.2.3", "v1.0-beta_2", &dotted_64] {
            assert!(validate_queue_name(ok).is_ok(), "{ok}");
        }
        let dotted_65 = format!("{}.x", "a".repeat(63));
        for bad in [".", "..", ".a", ".emails.high", &dotted_65] {
            assert!(validate_queue_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn job_ids_round_trip_and_carry_their_queue() {
        let id = JobId::generate("emails", 1_767_225_600_000, &mut Counter(0));
        assert!(id.text.starts_with("emails."));
        assert_eq!(JobId::parse(&id.text), Some(id.clone()));
    }

    /// An id splits at its last dot: every dotted queue name, even one ending in a dot or one
    /// that itself looks like a job id, comes back whole.
    #[test]
    fn ids_of_dotted_queues_split_at_the_last_dot() {
        let like_an_id = format!("q.{}", Ulid::from_parts(1, 2));
        for queue in ["emails.high", "a.", "a..b", "1.2.3", like_an_id.as_str(), &format!("{}.x", "a".repeat(62))] {
            let id = JobId::generate(queue, 1_767_225_600_000, &mut Counter(0));
            assert_eq!(id.text.len(), queue.len() + 1 + ULID_LEN);
            assert_eq!(JobId::parse(&id.text), Some(id.clone()), "{queue}");
            assert_eq!(id.queue, queue);
        }
    }

    /// Ids minted before queue names could hold dots parse exactly as they always did.
    #[test]
    fn ids_of_undotted_queues_still_parse() {
        let old = "emails.01KC7Z4Q9V3J8M2N6P5R4T3W2X";
        assert_eq!(JobId::parse(old), Some(JobId { queue: "emails".into(), text: old.into() }));
    }

    #[test]
    fn foreign_or_malformed_ids_do_not_parse() {
        for bad in [
            "",
            "emails",
            "emails.",
            ".01JD3Q0000000000000000000",
            "a/b.01JD3Q0000000000000000000",
            "emails.01JD3Q00000000000000000U",
            "../x.01JD3Q0000000000000000000",
            ".a.01JD3Q0000000000000000000A",
            "..01JD3Q0000000000000000000A",
            "emails.high.01JD3Q00000000000000000",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_minted_in_order_sort_by_time() {
        let a = JobId::generate("q", 1_000, &mut Counter(0));
        let b = JobId::generate("q", 2_000, &mut Counter(0));
        assert!(a.text < b.text);
    }
}
