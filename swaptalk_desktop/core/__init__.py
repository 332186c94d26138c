"""Qt-free and torch-free foundations: errors, cancellation, timebase, atomic files, documents."""
