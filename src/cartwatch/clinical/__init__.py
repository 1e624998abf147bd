"""Pure clinical rule engines: each module names its guideline, version and table."""
