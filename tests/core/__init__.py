"""Tests of sharpeyes.core."""
