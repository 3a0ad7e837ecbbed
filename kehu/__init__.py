"""kehu (客户): a customer-management system for small and mid-sized companies."""

__version__ = "0.1.0"
