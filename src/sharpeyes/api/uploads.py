"""Spreadsheet uploads: one multipart field ``file``, with a size limit."""

from fastapi import UploadFile

from sharpeyes.core.errors import TooLargeError


def check_upload(upload: UploadFile, max_mb: int) -> str:
    """The upload's file name; ``TooLargeError`` (413) past ``max_mb``."""
    size = upload.size
    if size is None:
        upload.file.seek(0, 2)
        size = upload.file.tell()
        upload.file.seek(0)
    if size > max_mb * 1024 * 1024:
        raise TooLargeError(f"the file has {size / 2**20:.1f} MB; the limit is {max_mb} MB (imports.max_upload_mb)")
    return upload.filename or "upload"
