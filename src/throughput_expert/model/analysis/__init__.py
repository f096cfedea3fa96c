"""The typed analysis record of each command (``Report.analysis``), one module per command.

Records hold SI values (seconds, per second, fractions); ``model/record.py`` writes their JSON
form with the unit in the key and generates their JSON Schemas (shipped in ``schemas/``).
"""
