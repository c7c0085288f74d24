"""The "Backprop by hand" wing: its settings and the worked example's views."""
