"""Bulletins (通报) and the Excel task ledger (台账) pages."""
