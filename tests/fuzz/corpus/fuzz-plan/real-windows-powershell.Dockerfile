# escape=`

FROM mcr.microsoft.com/windows/servercore:ltsc2022

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

ENV GIT_VERSION 2.44.0
ENV GIT_DOWNLOAD_URL https://github.com/git-for-windows/git/releases/download/v${GIT_VERSION}.windows.1/MinGit-${GIT_VERSION}-64-bit.zip

RUN Write-Host ('Downloading {0} ...' -f $env:GIT_DOWNLOAD_URL); `
	Invoke-WebRequest -Uri $env:GIT_DOWNLOAD_URL -OutFile 'git.zip'; `
	`
	Write-Host 'Expanding ...'; `
	Expand-Archive -Path git.zip -DestinationPath C:\git\.; `
	Remove-Item git.zip -Force; `
	`
	Write-Host 'Updating PATH ...'; `
	$env:PATH = 'C:\git\cmd;C:\git\mingw64\bin;C:\git\usr\bin;' + $env:PATH; `
	[Environment]::SetEnvironmentVariable('PATH', $env:PATH, [EnvironmentVariableTarget]::Machine); `
	`
	Write-Host 'Complete.';

WORKDIR C:\src
COPY . C:\src
CMD ["git.exe", "version"]
