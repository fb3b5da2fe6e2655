FROM alpine
RUN echo ok
FROMM scratch
