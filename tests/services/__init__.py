"""Tests of sharpeyes.services."""
