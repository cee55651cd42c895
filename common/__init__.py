"""What every Lineup app shares: the base model and the audit trail, the root refusal, bounded
lock waits, the import file reader, and the command and admin building blocks.

It sits below the apps and imports none of them.
"""
