"""The figures leaders run the campaign by: per period and grouping, the units ranked, the stats console and the bulletin."""
