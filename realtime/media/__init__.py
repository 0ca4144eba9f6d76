"""Media plumbing of a session: incoming video and audio, outgoing reply audio."""
