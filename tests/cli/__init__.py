"""Tests of sharpeyes.cli."""
