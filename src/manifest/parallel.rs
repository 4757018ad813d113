//! Work on every core, in order: a slice is cut into one contiguous run per core and each run
//! is worked on by its own scoped thread, so the result is the same as working through the
//! slice one item after the other (the load parses files this way).

/// Below this many items the threads cost more than they save.
pub const PARALLEL_FROM: usize = 64;

/// Calls `f` on every item, on up to one thread per core (a contiguous run of the slice each),
/// or on this thread for fewer than [`PARALLEL_FROM`] items. A panic in `f` is raised here.
pub fn for_each_in_runs<T: Send>(items: &mut [T], f: impl Fn(&mut T) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < PARALLEL_FROM {
        items.iter_mut().for_each(f);
        return;
    }
    let run = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks_mut(run)
            .map(|chunk| s.spawn(move || chunk.iter_mut().for_each(f)))
            .collect();
        for h in handles {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_worked_on_once_and_stays_in_place() {
        for n in [
            0,
            1,
            PARALLEL_FROM - 1,
            PARALLEL_FROM,
            3 * PARALLEL_FROM + 7,
        ] {
            let mut items: Vec<(usize, usize)> = (0..n).map(|i| (i, 0)).collect();
            for_each_in_runs(&mut items, |(i, seen)| *seen += *i * 2);
            assert!(
                items
                    .iter()
                    .enumerate()
                    .all(|(k, &(i, seen))| k == i && seen == 2 * i)
            );
        }
    }
}
