//! Held-out sets D, E and F (`eval/held_out_d.jsonl`, `…_e.jsonl`, `…_f.jsonl`):
//! each 270 attacks and 90 look-alikes in the shapes agents meet (model and
//! MCP streams, tool results, pages, API answers, request bodies), written
//! by a helper that could not read the repository. Each was measured once
//! before any tuning (D: 202 of 270 found, 16 of 90 look-alikes raising a
//! finding; E: 188 of 270 and 9 of 90; F: 202 of 270 and 9 of 90), then
//! used to widen the rules, so they are development sets now: these floors
//! keep what was gained and may only be raised. Each case is scanned as the proxy sees it
//! (`eval/case_file.rs`), whole and in 7 pieces.
//!
//! Run `cargo test --release --target x86_64-unknown-linux-gnu --test
//! detection_eval_d -- --nocapture` to see the tables and what is missed.

#[path = "eval/case_file.rs"]
mod case_file;

#[test]
fn held_out_set_d_keeps_its_floors_whole_and_in_pieces() {
    case_file::assert_floors(
        include_str!("eval/held_out_d.jsonl"),
        &[
            ("destructive_commands", 15),
            ("exfil_commands", 23),
            ("exfil_outbound", 25),
            ("json_escaped_commands", 20),
            ("pipe_to_shell", 15),
            ("prompt_injection", 49),
            ("reverse_shells", 24),
            ("shell_obfuscation", 14),
            ("streamed_output", 40),
            ("windows_download_exec", 20),
        ],
        1,
    );
}

#[test]
fn held_out_set_e_keeps_its_floors_whole_and_in_pieces() {
    case_file::assert_floors(
        include_str!("eval/held_out_e.jsonl"),
        &[
            ("destructive_commands", 15),
            ("exfil_commands", 24),
            ("exfil_outbound", 30),
            ("json_escaped_commands", 17),
            ("pipe_to_shell", 14),
            ("prompt_injection", 50),
            ("reverse_shells", 22),
            ("shell_obfuscation", 14),
            ("streamed_output", 38),
            ("windows_download_exec", 18),
        ],
        6,
    );
}

#[test]
fn held_out_set_f_keeps_its_floors_whole_and_in_pieces() {
    case_file::assert_floors(
        include_str!("eval/held_out_f.jsonl"),
        &[
            ("destructive_commands", 14),
            ("exfil_commands", 22),
            ("exfil_outbound", 26),
            ("json_escaped_commands", 18),
            ("pipe_to_shell", 15),
            ("prompt_injection", 44),
            ("reverse_shells", 22),
            ("shell_obfuscation", 12),
            ("streamed_output", 35),
            ("windows_download_exec", 16),
        ],
        9,
    );
}
