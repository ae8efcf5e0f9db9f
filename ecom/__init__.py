"""The program: settings, the composition root and the ``ecom`` console command."""
