//! Logs go to stderr; where that is not a terminal (a pipe, a file, the awslogs driver when the
//! operator runs on Fargate) they must be plain text.

use crate::support::App;

#[tokio::test]
async fn log_lines_written_to_a_pipe_carry_no_terminal_colour_codes() {
    let app = App::api_only().await;
    let run = app.run("diff", &["--log-level", "ecs_operator=debug", "manifests"]);
    run.expect_code(2);
    assert!(run.stderr.contains("DEBUG"), "debug logs on stderr: {run}");
    assert!(
        !run.stderr.contains('\x1b'),
        "escape codes in logs written to a pipe: {:?}",
        run.stderr.lines().next()
    );
}
