"""Where task instances run. Every executor has the same small interface (see ``base``)."""
