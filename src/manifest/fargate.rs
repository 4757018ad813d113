//! The Fargate task size matrix: which task memory sizes go with each task CPU size.

/// One row of the matrix: a CPU size and its memory range in MiB (inclusive, with step).
struct Row {
    cpu: u32,
    min: u32,
    max: u32,
    step: u32,
    /// Available to Windows containers too.
    windows: bool,
}

const ROWS: &[Row] = &[
    Row {
        cpu: 256,
        min: 512,
        max: 2048,
        step: 512,
        windows: false,
    },
    Row {
        cpu: 512,
        min: 1024,
        max: 4096,
        step: 1024,
        windows: false,
    },
    Row {
        cpu: 1024,
        min: 2048,
        max: 8192,
        step: 1024,
        windows: true,
    },
    Row {
        cpu: 2048,
        min: 4096,
        max: 16384,
        step: 1024,
        windows: true,
    },
    Row {
        cpu: 4096,
        min: 8192,
        max: 30720,
        step: 1024,
        windows: true,
    },
    Row {
        cpu: 8192,
        min: 16384,
        max: 61440,
        step: 4096,
        windows: false,
    },
    Row {
        cpu: 16384,
        min: 32768,
        max: 122880,
        step: 8192,
        windows: false,
    },
];

/// Why a task size is not valid on Fargate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeError {
    /// The CPU value is not a Fargate size.
    Cpu {
        /// Valid CPU sizes.
        valid: Vec<u32>,
    },
    /// The memory does not go with the CPU.
    Memory {
        /// Human summary of the memory sizes that go with that CPU.
        valid: String,
    },
}

/// Checks a task's CPU units and memory MiB against the Fargate matrix.
pub fn check(cpu: u32, memory: u32, windows: bool) -> Result<(), SizeError> {
    let rows = || ROWS.iter().filter(|r| !windows || r.windows);
    let Some(row) = rows().find(|r| r.cpu == cpu) else {
        return Err(SizeError::Cpu {
            valid: rows().map(|r| r.cpu).collect(),
        });
    };
    // 256 CPU takes 512, 1024, 2048: a step of 512 would admit 1536, which Fargate rejects.
    let ok = if row.cpu == 256 {
        [512, 1024, 2048].contains(&memory)
    } else {
        (row.min..=row.max).contains(&memory) && (memory - row.min).is_multiple_of(row.step)
    };
    if ok {
        return Ok(());
    }
    let valid = if row.cpu == 256 {
        "512, 1024 or 2048".to_string()
    } else {
        format!("{} to {} in steps of {}", row.min, row.max, row.step)
    };
    Err(SizeError::Memory { valid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix() {
        let cases = [
            (256, 512, true),
            (256, 1024, true),
            (256, 1536, false),
            (256, 2048, true),
            (256, 4096, false),
            (512, 1024, true),
            (512, 4096, true),
            (512, 512, false),
            (1024, 2048, true),
            (1024, 8192, true),
            (1024, 9216, false),
            (2048, 16384, true),
            (4096, 30720, true),
            (4096, 31744, false),
            (8192, 16384, true),
            (8192, 20480, true),
            (8192, 17408, false),
            (16384, 122880, true),
            (16384, 40960, true),
            (16384, 36864, false),
            (300, 1024, false),
        ];
        for (cpu, mem, ok) in cases {
            assert_eq!(check(cpu, mem, false).is_ok(), ok, "cpu {cpu} memory {mem}");
        }
    }

    #[test]
    fn windows_has_fewer_cpu_sizes() {
        assert!(check(1024, 2048, true).is_ok());
        assert_eq!(
            check(256, 512, true),
            Err(SizeError::Cpu {
                valid: vec![1024, 2048, 4096]
            })
        );
    }
}
