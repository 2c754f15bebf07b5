//! The `backbone` binary: everything lives in the library (`backbone::cli`).

fn main() -> std::process::ExitCode {
    backbone::cli::main()
}
