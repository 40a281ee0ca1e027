"""Tests of sharpeyes.protocols."""
