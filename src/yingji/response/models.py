"""应急指挥与处置 (response): persistence only."""
