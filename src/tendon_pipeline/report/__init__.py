"""What each user sees: the runner's HTML report, the coach board and Prefect artifacts.

Rendering only: the numbers come from the warehouse package and the domain core.
"""
