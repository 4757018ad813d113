//! Unit tests of the work queue, on paused time: tokio advances the clock whenever every task
//! is idle, so a test "sleeps" through minutes of backoff instantly and reads exact instants.

use std::pin::Pin;
use std::sync::Mutex as StdMutex;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::sleep;

use super::*;

type Key = &'static str;
type Reconcile =
    Box<dyn Fn(Key) -> Pin<Box<dyn Future<Output = Result<Outcome, String>> + Send>> + Send + Sync>;

/// What one reconcile does: how long it works, then what it returns (`Err("panic")` panics).
type Behave = dyn Fn(Key, usize) -> (Duration, Result<Outcome, String>) + Send + Sync;

/// One finished (or panicked) reconcile, times relative to the start of the test.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    key: Key,
    start: Duration,
    end: Duration,
}

#[derive(Default)]
struct Log {
    runs: Vec<Run>,
    started: HashMap<Key, usize>,
    active_per_key: HashMap<Key, usize>,
    max_active_per_key: usize,
    active: usize,
    max_active: usize,
}

impl Log {
    fn starts(&self, key: Key) -> Vec<Duration> {
        self.runs
            .iter()
            .filter(|r| r.key == key)
            .map(|r| r.start)
            .collect()
    }
}

struct Harness {
    queue: WorkQueue<Key>,
    log: Arc<StdMutex<Log>>,
    t0: Instant,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Harness {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap()
    }

    fn elapsed(&self) -> Duration {
        Instant::now() - self.t0
    }
}

fn config(concurrency: usize) -> QueueConfig {
    QueueConfig {
        concurrency,
        seed: Some(42),
        ..QueueConfig::default()
    }
}

/// Starts `queue.run` with a reconcile that records every run and behaves as `behave` says.
fn start(
    queue: &WorkQueue<Key>,
    behave: impl Fn(Key, usize) -> (Duration, Result<Outcome, String>) + Send + Sync + 'static,
) -> Harness {
    let t0 = Instant::now();
    let log = Arc::new(StdMutex::new(Log::default()));
    let behave: Arc<Behave> = Arc::new(behave);
    let reconcile: Reconcile = {
        let log = Arc::clone(&log);
        Box::new(move |key| {
            let log = Arc::clone(&log);
            let behave = Arc::clone(&behave);
            Box::pin(async move {
                let start = Instant::now() - t0;
                let nth = {
                    let mut log = log.lock().unwrap();
                    let nth = *log.started.entry(key).and_modify(|n| *n += 1).or_insert(0);
                    let per_key = log.active_per_key.entry(key).or_insert(0);
                    *per_key += 1;
                    let per_key = *per_key;
                    log.max_active_per_key = log.max_active_per_key.max(per_key);
                    log.active += 1;
                    log.max_active = log.max_active.max(log.active);
                    nth
                };
                let (work, result) = behave(key, nth);
                sleep(work).await;
                {
                    let mut log = log.lock().unwrap();
                    *log.active_per_key.get_mut(key).unwrap() -= 1;
                    log.active -= 1;
                    let end = Instant::now() - t0;
                    log.runs.push(Run { key, start, end });
                }
                if matches!(&result, Err(e) if e == "panic") {
                    panic!("reconcile of {key} panicked on purpose");
                }
                result
            })
        })
    };
    let (stop, mut stop_rx) = watch::channel(false);
    let handle = tokio::spawn({
        let queue = queue.clone();
        async move {
            let shutdown = async move {
                let _ = stop_rx.wait_for(|stopped| *stopped).await;
            };
            queue.run(reconcile, shutdown).await;
        }
    });
    Harness {
        queue: queue.clone(),
        log,
        t0,
        stop,
        handle,
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// Timers fire on the next millisecond tick, so instants are compared to within 1 ms.
fn assert_near(actual: Duration, expected: Duration) {
    assert!(
        actual >= expected && actual <= expected + ms(1),
        "expected {expected:?} (+1 ms), got {actual:?}"
    );
}

fn assert_all_near(actual: &[Duration], expected: &[Duration]) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "runs at {actual:?}, expected {expected:?}"
    );
    for (a, e) in actual.iter().zip(expected) {
        assert_near(*a, *e);
    }
}

#[tokio::test(start_paused = true)]
async fn triggers_for_a_waiting_key_should_coalesce_into_one_run() {
    let queue = WorkQueue::new(config(1));
    for _ in 0..5 {
        queue.enqueue("a");
    }
    assert_eq!(queue.stats().depth, 1);
    let h = start(&queue, |key, _| match key {
        "busy" => (secs(5), Ok(Outcome::Done)),
        _ => (ms(100), Ok(Outcome::Done)),
    });
    sleep(secs(1)).await;
    // Also while waiting for a worker: "busy" holds the only one.
    h.queue.enqueue("busy");
    sleep(ms(10)).await;
    for _ in 0..5 {
        h.queue.enqueue("b");
    }
    assert_eq!(h.queue.stats().depth, 1);
    sleep(secs(60)).await;

    let log = h.log();
    assert_eq!(log.starts("a").len(), 1);
    assert_eq!(log.starts("b").len(), 1);
    assert_eq!(log.starts("busy").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_trigger_during_a_run_should_give_exactly_one_more_run_afterwards() {
    let queue = WorkQueue::new(config(2));
    queue.enqueue("a");
    let h = start(&queue, |_, _| (secs(2), Ok(Outcome::Done)));
    sleep(secs(1)).await;
    assert_eq!(h.queue.stats().in_flight, 1);
    for _ in 0..3 {
        h.queue.enqueue("a");
    }
    // Dirty, not waiting: nothing is in the queue while the run goes on.
    assert_eq!(h.queue.stats().depth, 0);
    sleep(secs(60)).await;

    assert_all_near(&h.log().starts("a"), &[secs(0), secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn one_key_should_never_run_concurrently_with_itself() {
    let queue = WorkQueue::new(config(4));
    let h = start(&queue, |_, _| (secs(1), Ok(Outcome::Done)));
    for _ in 0..30 {
        h.queue.enqueue("a");
        sleep(ms(100)).await;
    }
    sleep(secs(10)).await;

    let log = h.log();
    assert_eq!(log.max_active_per_key, 1, "runs: {:?}", log.runs);
    assert!(log.runs.len() >= 3, "runs: {:?}", log.runs);
    for pair in log.runs.windows(2) {
        assert!(pair[1].start >= pair[0].end, "overlap: {pair:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_concurrency_limit_should_be_respected_across_keys() {
    const KEYS: [Key; 10] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"];
    let queue = WorkQueue::new(config(3));
    for key in KEYS {
        queue.enqueue(key);
    }
    let h = start(&queue, |_, _| (secs(1), Ok(Outcome::Done)));
    sleep(ms(500)).await;
    let stats = h.queue.stats();
    assert_eq!((stats.in_flight, stats.depth, stats.ready), (3, 7, 7));
    sleep(secs(60)).await;

    let log = h.log();
    assert_eq!(log.max_active, 3);
    for key in KEYS {
        assert_eq!(log.starts(key).len(), 1, "{key}");
    }
    // 10 one-second runs, 3 at a time: 4 rounds.
    let last_end = log.runs.iter().map(|r| r.end).max().unwrap();
    assert_near(last_end, secs(4));
}

#[tokio::test(start_paused = true)]
async fn a_failing_key_should_back_off_doubling_with_jitter_up_to_the_cap_while_others_proceed() {
    let queue = WorkQueue::new(QueueConfig {
        concurrency: 1,
        backoff_base: secs(1),
        backoff_max: secs(16),
        jitter: 0.5,
        seed: Some(7),
    });
    queue.enqueue("bad");
    let h = start(&queue, |key, _| match key {
        "bad" => (Duration::ZERO, Err("boom".to_string())),
        _ => (Duration::ZERO, Ok(Outcome::Done)),
    });
    sleep(secs(10)).await;
    h.queue.enqueue("good");
    sleep(secs(190)).await;

    let log = h.log();
    // The only worker is free while "bad" waits out its backoff.
    assert_all_near(&log.starts("good"), &[secs(10)]);
    let bad = log.starts("bad");
    assert!(bad.len() >= 10, "bad ran at {bad:?}");
    let mut jittered = 0;
    for (i, pair) in bad.windows(2).enumerate() {
        let gap = pair[1] - pair[0];
        let nominal = secs(1 << i.min(4));
        assert!(
            gap >= nominal / 2 && gap <= nominal + ms(1),
            "retry {i}: gap {gap:?} outside [{:?}, {nominal:?}]",
            nominal / 2
        );
        if gap + ms(2) < nominal {
            jittered += 1;
        }
    }
    assert!(jittered > bad.len() / 2, "jitter barely applied: {bad:?}");
    assert_eq!(h.queue.stats().retries_total, bad.len() as u64);
}

#[tokio::test(start_paused = true)]
async fn success_should_reset_the_backoff_to_the_base() {
    let queue = WorkQueue::new(QueueConfig {
        jitter: 0.0,
        ..config(1)
    });
    queue.enqueue("a");
    // Fails twice, succeeds asking for a requeue, fails once more, succeeds; after a new trigger
    // fails again. Every failure after a success waits the base delay.
    let h = start(&queue, |_, nth| match nth {
        2 => (Duration::ZERO, Ok(Outcome::RequeueAfter(secs(10)))),
        4 | 6 => (Duration::ZERO, Ok(Outcome::Done)),
        _ => (Duration::ZERO, Err("boom".to_string())),
    });
    sleep(secs(30)).await;
    h.queue.enqueue("a");
    sleep(secs(10)).await;

    // 0 s, +1 s, +2 s (success, requeue in 10 s); 13 s fails, retried after 1 s (not 4 s);
    // 30 s fails, retried after 1 s.
    assert_all_near(
        &h.log().starts("a"),
        &[
            secs(0),
            secs(1),
            secs(3),
            secs(13),
            secs(14),
            secs(30),
            secs(31),
        ],
    );
}

#[tokio::test(start_paused = true)]
async fn requeue_after_should_run_the_key_again_after_the_delay() {
    let queue = WorkQueue::new(config(2));
    queue.enqueue("a");
    let h = start(&queue, |_, nth| match nth {
        0 => (secs(1), Ok(Outcome::RequeueAfter(secs(30)))),
        _ => (secs(1), Ok(Outcome::Done)),
    });
    sleep(secs(5)).await;
    assert_eq!(h.queue.stats().depth, 1);
    assert_eq!(h.queue.stats().ready, 0);
    sleep(secs(300)).await;

    // Requeued 30 s after the first run ended, then done for good.
    assert_all_near(&h.log().starts("a"), &[secs(0), secs(31)]);
    assert_eq!(h.queue.stats(), QueueStats::default());
}

#[tokio::test(start_paused = true)]
async fn a_panicking_reconcile_should_count_as_a_failure_and_back_off() {
    let queue = WorkQueue::new(QueueConfig {
        jitter: 0.0,
        ..config(1)
    });
    queue.enqueue("a");
    let h = start(&queue, |_, nth| match nth {
        0 => (Duration::ZERO, Err("panic".to_string())),
        _ => (Duration::ZERO, Ok(Outcome::Done)),
    });
    sleep(secs(10)).await;

    assert_all_near(&h.log().starts("a"), &[secs(0), secs(1)]);
    assert_eq!(h.queue.stats().retries_total, 1);
    assert_eq!(h.queue.stats().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_should_let_the_in_flight_run_finish_and_start_no_new_one() {
    let queue = WorkQueue::new(config(1));
    queue.enqueue("a");
    queue.enqueue("b");
    let h = start(&queue, |_, _| (secs(5), Ok(Outcome::Done)));
    sleep(secs(1)).await;
    h.stop.send(true).unwrap();
    h.queue.enqueue("c");
    let elapsed_at_stop = h.elapsed();
    let Harness {
        handle,
        log,
        queue,
        t0,
        ..
    } = h;
    // Bounded like the caller would, so a queue that never stops fails instead of hanging.
    tokio::time::timeout(secs(600), handle)
        .await
        .expect("run should return after shutdown")
        .unwrap();

    // `run` returned when "a" finished, not before and not after.
    assert_near(elapsed_at_stop, secs(1));
    assert_near(Instant::now() - t0, secs(5));
    let log = log.lock().unwrap();
    assert_eq!(log.runs.len(), 1, "runs: {:?}", log.runs);
    assert_eq!(log.runs[0].key, "a");
    assert_near(log.runs[0].end, secs(5));
    let stats = queue.stats();
    assert_eq!((stats.in_flight, stats.depth), (0, 2));
}

#[test]
fn backoff_delay_should_double_from_the_base_and_stop_at_the_cap() {
    let config = QueueConfig {
        jitter: 0.0,
        ..QueueConfig::default()
    };
    let mut rng = StdRng::seed_from_u64(1);
    let delays: Vec<u64> = (1..=12)
        .map(|n| backoff_delay(&config, n, &mut rng).as_secs())
        .collect();
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    assert_eq!(backoff_delay(&config, u32::MAX, &mut rng), secs(300));
}

#[test]
fn backoff_jitter_should_stay_within_bounds_and_repeat_with_the_same_seed() {
    let config = QueueConfig::default();
    let draw = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..200)
            .map(|i| backoff_delay(&config, i % 12 + 1, &mut rng))
            .collect::<Vec<_>>()
    };
    let first = draw(3);
    assert_eq!(first, draw(3));
    assert_ne!(first, draw(4));
    for (i, delay) in first.iter().enumerate() {
        let nominal = secs(1 << (i % 12)).min(secs(300));
        assert!(
            *delay >= nominal.mul_f64(0.9) && *delay <= nominal,
            "failure {}: {delay:?} outside 90-100 % of {nominal:?}",
            i % 12 + 1
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_key_should_not_be_retried_until_it_is_triggered_again() {
    let queue = WorkQueue::new(config(2));
    queue.enqueue("bad");
    // Two failures first (backoff 1 s, 2 s), then stalled for good.
    let h = start(&queue, |_, nth| match nth {
        0 | 1 => (ms(10), Err("transient".into())),
        _ => (ms(10), Ok(Outcome::Stalled)),
    });
    sleep(secs(3600)).await;
    assert_eq!(
        h.log().starts("bad").len(),
        3,
        "stalled: no retry for an hour"
    );
    let stats = h.queue.stats();
    assert_eq!(
        (stats.depth, stats.retries_total, stats.stalled_total),
        (0, 2, 1)
    );

    // A trigger (the manifest changed, or the full sync) runs it again at once, with no
    // backoff left over from the failures before it stalled.
    let at = h.elapsed();
    h.queue.enqueue("bad");
    sleep(secs(1)).await;
    let starts = h.log().starts("bad");
    assert_eq!(starts.len(), 4);
    assert_near(starts[3], at);
}
