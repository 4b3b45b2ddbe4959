"""Conversations as staff see them: the list with filters and search, a transcript with tags,
the reviewed mark and a note, exports and what the bot did not understand (`routes`, over
`queries`), and taking a conversation over from the assistant (`takeover`). The conversations
come from the index the projector builds (`projector.index`); the only thing written here is
the staff's annotations."""
