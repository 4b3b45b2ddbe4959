"""What staff teach the assistant: topics given to messages it did not understand, and to answers
staff disagree with (`routes`, over `queries`)."""
