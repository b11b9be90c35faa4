"""The project folder of ``llmlab export`` / ``llmlab import``: prompts and datasets as code.

``format`` defines the layout and parses single documents, ``writer`` writes a folder
deterministically, ``reader`` reads and validates one. Nothing here touches the database.
"""
