"""Timeline: what was true of a change, and who was core, at any time T."""
