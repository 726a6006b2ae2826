"""The local stack: AppSync emulator, embedded AWS services, simulators and the CLI."""
