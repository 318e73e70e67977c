"""The big screen (数据大屏): the page that command centres keep on a wall, served by the app."""
