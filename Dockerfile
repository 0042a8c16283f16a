# The project's image for docker-compose.yml: web, worker, beat and the simulated team all run it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["gunicorn", "memsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2"]
