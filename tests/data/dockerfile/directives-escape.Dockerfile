# escape=`
# syntax=docker/dockerfile:1

FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
RUN New-Item -ItemType Directory C:\app ; `
    Set-Location C:\app
# the backslash is an ordinary character now
COPY app\ C:\app\
# escape=\ here is only a comment
WORKDIR C:\app
CMD ["C:\\app\\server.exe", "--port", "8080"]
