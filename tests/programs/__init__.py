"""Small programs the reliability tests run under boxtrace, and helpers that inspect what a run left behind."""
